//! Users, numbers, teams, company and ping (aircall-api.md §1.1, §5.6).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::paging::Paging;
use super::{Aircall, AircallError, parse_id};

type Result<T> = std::result::Result<T, AircallError>;

pub async fn ping() -> Json<Value> {
    Json(json!({ "ping": "pong" }))
}

pub async fn company(State(a): State<Aircall>) -> Json<Value> {
    let s = a.state();
    Json(json!({ "company": { "name": "Sandbox Company", "users_count": s.users.len(), "numbers_count": s.numbers.len() } }))
}

pub async fn list_users(State(a): State<Aircall>, RawQuery(q): RawQuery) -> Json<Value> {
    let s = a.state();
    let items = s.users.iter().map(|u| (u.created_at, u.id, s.user_full(a.base(), u))).collect();
    Json(Paging::from_query(q.as_deref()).render("users", items, a.base(), "/v1/users"))
}

pub async fn get_user(State(a): State<Aircall>, Path(id): Path<String>) -> Result<Json<Value>> {
    let id = parse_id(&id, "User")?;
    let s = a.state();
    let u = s.users.iter().find(|u| u.id == id).ok_or_else(|| AircallError::not_found("User not found"))?;
    Ok(Json(json!({ "user": s.user_full(a.base(), u) })))
}

pub async fn user_availability(State(a): State<Aircall>, Path(id): Path<String>) -> Result<Json<Value>> {
    let id = parse_id(&id, "User")?;
    let s = a.state();
    let u = s.users.iter().find(|u| u.id == id).ok_or_else(|| AircallError::not_found("User not found"))?;
    Ok(Json(json!({ "availability": u.availability })))
}

pub async fn availabilities(State(a): State<Aircall>, RawQuery(q): RawQuery) -> Json<Value> {
    let s = a.state();
    let items = s.users.iter().map(|u| (u.created_at, u.id, json!({ "id": u.id, "availability": u.availability }))).collect();
    // [U] aircall-api.md §4.5/§5.6: the list key of `/v1/users/availabilities` is assumed to be `users`.
    Json(Paging::from_query(q.as_deref()).render("users", items, a.base(), "/v1/users/availabilities"))
}

pub async fn list_numbers(State(a): State<Aircall>, RawQuery(q): RawQuery) -> Json<Value> {
    let s = a.state();
    let items = s.numbers.iter().map(|n| (n.created_at, n.id, s.number_full(a.base(), n))).collect();
    Json(Paging::from_query(q.as_deref()).render("numbers", items, a.base(), "/v1/numbers"))
}

pub async fn get_number(State(a): State<Aircall>, Path(id): Path<String>) -> Result<Json<Value>> {
    let id = parse_id(&id, "Number")?;
    let s = a.state();
    let n = s.numbers.iter().find(|n| n.id == id).ok_or_else(|| AircallError::not_found("Number not found"))?;
    Ok(Json(json!({ "number": s.number_full(a.base(), n) })))
}

pub async fn list_teams(State(a): State<Aircall>, RawQuery(q): RawQuery) -> Json<Value> {
    let s = a.state();
    let items = s.teams.iter().map(|t| (t.created_at, t.id, s.team_json(a.base(), t))).collect();
    Json(Paging::from_query(q.as_deref()).render("teams", items, a.base(), "/v1/teams"))
}

pub async fn get_team(State(a): State<Aircall>, Path(id): Path<String>) -> Result<Json<Value>> {
    let id = parse_id(&id, "Team")?;
    let s = a.state();
    let t = s.teams.iter().find(|t| t.id == id).ok_or_else(|| AircallError::not_found("Team not found"))?;
    Ok(Json(json!({ "team": s.team_json(a.base(), t) })))
}

pub async fn add_team_user(State(a): State<Aircall>, Path((id, user_id)): Path<(String, String)>) -> Result<(StatusCode, Json<Value>)> {
    let (id, user_id) = (parse_id(&id, "Team")?, parse_id(&user_id, "User")?);
    a.update(|s| {
        if !s.users.iter().any(|u| u.id == user_id) {
            return Err(AircallError::not_found("User not found"));
        }
        let t = s.teams.iter_mut().find(|t| t.id == id).ok_or_else(|| AircallError::not_found("Team not found"))?;
        if !t.user_ids.contains(&user_id) {
            t.user_ids.push(user_id);
        }
        Ok(())
    })?;
    let s = a.state();
    let t = s.teams.iter().find(|t| t.id == id).ok_or_else(|| AircallError::not_found("Team not found"))?;
    Ok((StatusCode::CREATED, Json(json!({ "team": s.team_json(a.base(), t) }))))
}

pub async fn remove_team_user(State(a): State<Aircall>, Path((id, user_id)): Path<(String, String)>) -> Result<Json<Value>> {
    let (id, user_id) = (parse_id(&id, "Team")?, parse_id(&user_id, "User")?);
    a.update(|s| {
        let t = s.teams.iter_mut().find(|t| t.id == id).ok_or_else(|| AircallError::not_found("Team not found"))?;
        t.user_ids.retain(|u| *u != user_id);
        Ok::<_, AircallError>(())
    })?;
    let s = a.state();
    let t = s.teams.iter().find(|t| t.id == id).ok_or_else(|| AircallError::not_found("Team not found"))?;
    Ok(Json(json!({ "team": s.team_json(a.base(), t) })))
}
