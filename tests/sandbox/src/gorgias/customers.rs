//! Account, users, customers and search (gorgias-hubspot-api.md §1.5, §1.6).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::model::{Channel, Customer, GorgiasState};
use super::{Gorgias, GorgiasError, body, page, parse_id};
use crate::common::util::{now_secs, phone_key, query_pairs, str_field};

type Result<T> = std::result::Result<T, GorgiasError>;

pub async fn account(State(g): State<Gorgias>) -> Json<Value> {
    Json(
        json!({ "domain": "sandbox", "status": { "status": "active" }, "created_datetime": super::model::dt(1_600_000_000), "base_url": g.base() }),
    )
}

pub async fn list_users(State(g): State<Gorgias>, RawQuery(q): RawQuery) -> Result<Json<Value>> {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let items = g.state().users.iter().map(GorgiasState::user_json).collect();
    Ok(Json(page(items, "/api/users", param("cursor").as_deref(), param("limit").as_deref(), 100)?))
}

pub async fn get_user(State(g): State<Gorgias>, Path(id): Path<String>) -> Result<Json<Value>> {
    let id = parse_id(&id, "User")?;
    let s = g.state();
    let u = s.users.iter().find(|u| u.id == id).ok_or_else(|| GorgiasError::not_found("User"))?;
    Ok(Json(GorgiasState::user_json(u)))
}

/// `GET /api/customers?email&external_id&cursor&limit` (ordered by name, §1.5).
pub async fn list(State(g): State<Gorgias>, RawQuery(q): RawQuery) -> Result<Json<Value>> {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let email = param("email").map(|e| e.to_lowercase());
    let ext = param("external_id");
    let s = g.state();
    let mut found: Vec<&Customer> = s
        .customers
        .iter()
        .filter(|c| email.as_ref().is_none_or(|e| c.email.as_deref().map(str::to_lowercase).as_ref() == Some(e)))
        .filter(|c| ext.as_ref().is_none_or(|x| c.external_id.as_ref() == Some(x)))
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let items = found.into_iter().map(GorgiasState::customer_json).collect();
    Ok(Json(page(items, "/api/customers", param("cursor").as_deref(), param("limit").as_deref(), 100)?))
}

pub async fn get(State(g): State<Gorgias>, Path(id): Path<String>) -> Result<Json<Value>> {
    let id = parse_id(&id, "Customer")?;
    let s = g.state();
    let c = s.customers.iter().find(|c| c.id == id).ok_or_else(|| GorgiasError::not_found("Customer"))?;
    Ok(Json(GorgiasState::customer_json(c)))
}

/// `POST /api/customers` → 201; `channels` required; a used e-mail → 409.
pub async fn create(State(g): State<Gorgias>, bytes: Bytes) -> Result<(StatusCode, Json<Value>)> {
    let map = body(&bytes)?;
    let channels = map
        .get("channels")
        .and_then(Value::as_array)
        .ok_or_else(|| GorgiasError::invalid("channels", "Missing data for required field."))?;
    let now = now_secs();
    let c = g.update(|s| {
        let mut c = Customer {
            name: str_field(&map, "name").map(str::to_owned),
            firstname: str_field(&map, "firstname").map(str::to_owned),
            lastname: str_field(&map, "lastname").map(str::to_owned),
            email: str_field(&map, "email").map(str::to_owned),
            external_id: str_field(&map, "external_id").map(str::to_owned),
            note: str_field(&map, "note").map(str::to_owned),
            language: str_field(&map, "language").map(str::to_owned),
            timezone: str_field(&map, "timezone").map(str::to_owned),
            created_at: now,
            updated_at: now,
            ..Customer::default()
        };
        for (i, ch) in channels.iter().enumerate() {
            let kind = ch
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| GorgiasError::invalid(&format!("channels.{i}.type"), "Missing data for required field."))?;
            let address = ch
                .get("address")
                .and_then(Value::as_str)
                .ok_or_else(|| GorgiasError::invalid(&format!("channels.{i}.address"), "Missing data for required field."))?;
            let preferred = ch.get("preferred").and_then(Value::as_bool).unwrap_or(false);
            c.channels.push(Channel { id: s.alloc(), kind: kind.to_owned(), address: address.to_owned(), preferred });
        }
        if c.email.is_none() {
            c.email = c.channels.iter().find(|x| x.kind == "email").map(|x| x.address.clone());
        }
        let emails: Vec<String> = c
            .channels
            .iter()
            .filter(|x| x.kind == "email")
            .map(|x| x.address.to_lowercase())
            .chain(c.email.iter().map(|e| e.to_lowercase()))
            .collect();
        let clash = s.customers.iter().any(|o| {
            o.email
                .iter()
                .map(|e| e.to_lowercase())
                .chain(o.channels.iter().filter(|x| x.kind == "email").map(|x| x.address.to_lowercase()))
                .any(|e| emails.contains(&e))
        });
        if clash {
            // §1.4/§1.5: an e-mail already in use is a 409.
            return Err(GorgiasError::new(StatusCode::CONFLICT, "A customer with this email already exists."));
        }
        c.id = s.alloc();
        s.customers.push(c.clone());
        Ok(c)
    })?;
    Ok((StatusCode::CREATED, Json(GorgiasState::customer_json(&c))))
}

/// `POST /api/search {type, query, size}` → 201 (§1.5); phone types match on phone channels.
pub async fn search(State(g): State<Gorgias>, bytes: Bytes) -> Result<(StatusCode, Json<Value>)> {
    let map = body(&bytes)?;
    let kind = str_field(&map, "type").ok_or_else(|| GorgiasError::invalid("type", "Missing data for required field."))?;
    let query = str_field(&map, "query").unwrap_or("").to_owned();
    let size = map.get("size").and_then(Value::as_u64).unwrap_or(10);
    if !(1..=50).contains(&size) {
        return Err(GorgiasError::invalid("size", "Must be between 1 and 50."));
    }
    let s = g.state();
    let q = query.to_lowercase();
    // [U] §1.5/§3.2: the result layout is unpublished; `{"data": [customer…]}` is returned, phone
    // matching compares numbers without formatting.
    let hits: Vec<Value> = match kind {
        "customers_by_phone" | "customer_channel_phone" => s
            .customers
            .iter()
            .filter(|c| c.channels.iter().any(|ch| ch.kind == "phone" && phone_key(&ch.address) == phone_key(&query)))
            .map(GorgiasState::customer_json)
            .collect(),
        "customer" | "customer_profile" => s
            .customers
            .iter()
            .filter(|c| {
                c.name.as_deref().is_some_and(|n| n.to_lowercase().contains(&q))
                    || c.email.as_deref().is_some_and(|e| e.to_lowercase().contains(&q))
                    || c.channels.iter().any(|ch| ch.address.to_lowercase().contains(&q))
            })
            .map(GorgiasState::customer_json)
            .collect(),
        "customer_channel_email" | "customer_channel" => s
            .customers
            .iter()
            .filter(|c| c.channels.iter().any(|ch| ch.address.to_lowercase() == q))
            .map(GorgiasState::customer_json)
            .collect(),
        "agent" => s
            .users
            .iter()
            .filter(|u| u.email.to_lowercase().contains(&q) || u.firstname.to_lowercase().contains(&q))
            .map(GorgiasState::user_json)
            .collect(),
        "tag" => s.tags.iter().filter(|t| t.name.to_lowercase().contains(&q)).map(|t| s.tag_json(t)).collect(),
        "integration" | "team" => Vec::new(),
        other => {
            return Err(GorgiasError::invalid("type", &format!("Invalid search type: {other}")));
        }
    };
    let hits: Vec<Value> = hits.into_iter().take(size as usize).collect();
    Ok((StatusCode::CREATED, Json(json!({ "data": hits }))))
}
