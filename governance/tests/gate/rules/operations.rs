//! Operations and paths: where findings point, what is never breaking about an operation,
//! sunsets and renamed path parameters.

use super::*;

#[test]
fn findings_point_at_the_change() {
    let base = doc(|_| {});
    let rev = doc(|d| {
        thing(d)["properties"]
            .as_object_mut()
            .unwrap()
            .remove("note");
    });
    let f = &diff(&base, &rev, TODAY)[0];
    assert_eq!(
        f.location,
        "/paths/~1things~1{id}/get/responses/200/content/application~1json/schema/properties/note"
    );
    assert!(!f.fix.is_empty());
}

#[test]
fn descriptions_examples_and_deprecation_are_not_breaking() {
    let base = doc(|_| {});
    let rev = doc(|d| {
        thing(d)["description"] = json!("a thing");
        thing(d)["properties"]["name"]["example"] = json!("x");
        get_op(d)["deprecated"] = json!(true);
        get_op(d)["description"] = json!("now documented");
        d["info"]["description"] = json!("changed");
    });
    assert!(breaking_rules(&base, &rev).is_empty());
    let infos: Vec<_> = diff(&base, &rev, TODAY)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(infos, ["operation-deprecated"]);
}

#[test]
fn an_operation_removed_after_its_sunset_is_not_breaking() {
    let base = doc(|_| {});
    let rev = doc(|d| {
        d["paths"].as_object_mut().unwrap().remove("/old");
    });
    let after = diff(&base, &rev, "2027-06-02");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].rule, "operation-retired");
    assert_eq!(after[0].severity, Severity::Info);
}

#[test]
fn a_renamed_path_parameter_is_the_same_operation() {
    let base = doc(|_| {});
    let rename = |d: &mut Value| {
        param(d, "id")["name"] = json!("thing_id");
        let paths = d["paths"].as_object_mut().unwrap();
        let item = paths.remove("/things/{id}").unwrap();
        paths.insert("/things/{thing_id}".into(), item);
    };
    let rev = doc(rename);
    assert_eq!(breaking_rules(&base, &rev), Vec::<String>::new());
    let notes: Vec<_> = diff(&base, &rev, TODAY)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(notes, ["path-parameter-renamed"]);
    // Matched by position, the parameter is still compared.
    let narrowed = doc(|d| {
        param(d, "id")["schema"] = json!({"type": "integer"});
        rename(d);
    });
    let fired = breaking_rules(&base, &narrowed);
    assert!(only(&fired, "request-property-type-changed"), "{fired:?}");
}
