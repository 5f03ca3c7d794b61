//! The results file's published JSON Schema (`docs/results.schema.json`), applied as any
//! draft 2020-12 validator applies it, for the keywords the schema uses: `type`, `enum`,
//! `const`, `required`, `properties`, `items`, `minimum` and `$ref` to `#/$defs/…`
//! (`format` is an annotation in 2020-12). A keyword it does not model fails the check
//! rather than being skipped, so the schema cannot outgrow the checker unnoticed.

use serde_json::{Value, json};

/// `docs/results.schema.json`, as published.
pub fn results_schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/results.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("the schema is JSON")
}

/// Checks `doc` against `schema`; the first violation, with where it is.
pub fn validate(schema: &Value, doc: &Value) -> Result<(), String> {
    check(schema, schema, doc, "$")
}

/// JSON Schema's types: an integer is a number without a fractional part (`1.0` is one).
fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

fn check(root: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let rules = schema.as_object().ok_or_else(|| format!("{at}: the schema is not an object"))?;
    for (keyword, rule) in rules {
        let fail = |why: String| Err(format!("{at}: {v} {why}"));
        match keyword.as_str() {
            "$schema" | "$id" | "$defs" | "title" | "description" | "format" => {}
            "$ref" => {
                let name = rule.as_str().and_then(|r| r.strip_prefix("#/$defs/")).unwrap_or("");
                let target = root["$defs"].get(name).ok_or_else(|| format!("{at}: unknown $ref {rule}"))?;
                check(root, target, v, at)?;
            }
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                    _ => rule.as_str().into_iter().collect(),
                };
                if !types.iter().any(|t| is_type(v, t)) {
                    return fail(format!("is not of type {rule}"));
                }
            }
            "enum" if !rule.as_array().is_some_and(|list| list.contains(v)) => {
                return fail(format!("is not one of {rule}"));
            }
            "const" if rule != v => return fail(format!("is not {rule}")),
            "enum" | "const" => {}
            "minimum" if v.as_f64().zip(rule.as_f64()).is_some_and(|(x, min)| x < min) => {
                return fail(format!("is under the minimum {rule}"));
            }
            "minimum" => {}
            "required" => {
                let (Some(obj), Some(names)) = (v.as_object(), rule.as_array()) else { continue };
                if let Some(name) = names.iter().filter_map(Value::as_str).find(|n| !obj.contains_key(*n)) {
                    return fail(format!("lacks the required {name:?}"));
                }
            }
            "properties" => {
                let (Some(obj), Some(props)) = (v.as_object(), rule.as_object()) else { continue };
                for (name, sub) in props {
                    if let Some(x) = obj.get(name) {
                        check(root, sub, x, &format!("{at}.{name}"))?;
                    }
                }
            }
            "items" => {
                for (i, x) in v.as_array().into_iter().flatten().enumerate() {
                    check(root, rule, x, &format!("{at}[{i}]"))?;
                }
            }
            other => return Err(format!("{at}: the checker does not model the keyword {other:?}")),
        }
    }
    Ok(())
}

#[test]
fn the_checker_rejects_what_a_validator_rejects() {
    let schema = json!({"$defs": {"id": {"type": ["integer", "string", "null"]}},
        "type": "object", "required": ["ids", "kind"],
        "properties": {"ids": {"type": "array", "items": {"$ref": "#/$defs/id"}},
            "kind": {"enum": ["a", "b"]}, "n": {"type": "integer", "minimum": 0}, "v": {"const": 1}}});
    let ok = json!({"ids": [1, "x", null, 2.0], "kind": "a", "n": 0, "v": 1});
    assert_eq!(validate(&schema, &ok), Ok(()));
    for (bad, why) in [
        (json!({"ids": [1.5], "kind": "a"}), "$.ids[0]: 1.5 is not of type"),
        (json!({"ids": [], "kind": "c"}), "$.kind: \"c\" is not one of"),
        (json!({"ids": []}), "lacks the required \"kind\""),
        (json!({"ids": [], "kind": "a", "n": -1}), "$.n: -1 is under the minimum"),
        (json!({"ids": [], "kind": "a", "v": 2}), "$.v: 2 is not 1"),
        (json!([]), "$: [] is not of type"),
    ] {
        let e = validate(&schema, &bad).unwrap_err();
        assert!(e.starts_with(why) || e.contains(why), "{e}");
    }
    assert!(validate(&json!({"pattern": "x"}), &json!("x")).unwrap_err().contains("does not model"));
}
