//! `warm_up` leaves the engine answering exactly as before.

#[test]
fn warm_up_changes_no_answer() {
    switchboard_phone::warm_up(["FR", "gb", "XX", ""]);
    assert_eq!(switchboard_phone::region_of("+442087653456").as_deref(), Some("GB"));
    assert_eq!(
        switchboard_phone::normalize("07 62 04 35 75", Some("FR")).unwrap(),
        switchboard_phone::Normalized::Number("+33762043575".into())
    );
}
