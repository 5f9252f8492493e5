//! Checks HTTP requests and responses against an OpenAPI 3.0 document, such as DigitalOcean's
//! `bundled.json`, so a provider client's tests (what it sends) and a fake's tests (what it
//! answers) are held to the official spec. Test support: compute-digitalocean's contract test
//! and compute-testkit's DigitalOcean fake tests include this file (`#[path]`).
//!
//! OpenAPI 3.0 schemas are turned into strict JSON Schema (draft 4, which OpenAPI 3.0's schema
//! object extends) before validation with the `jsonschema` crate:
//!
//! - `nullable: true` becomes a `null` alternative of `type` (and of `enum`);
//! - `allOf` members that are plain object schemas are merged into one (properties and
//!   `required` joined), so the result can be closed;
//! - every object schema with `properties` and no `additionalProperties` is **closed**
//!   (`additionalProperties: false`): an unknown field is a violation, unlike in the spec
//!   itself, which leaves objects open;
//! - for requests, `readOnly` properties are removed (sending one is a violation); for
//!   responses, `writeOnly` ones;
//! - OpenAPI-only keywords (`example`, `discriminator`, `format`, …) are dropped;
//! - `$ref`s to `#/components/schemas/…` are resolved within the document.
//!
//! Query and path parameters are checked against their parameter schemas (after the text is
//! read as the integer, number or boolean the schema asks for), and a query parameter the
//! operation does not declare is a violation.

#![allow(dead_code)]

use std::path::Path;

use serde_json::{Map, Value, json};

/// Request or response: decides which of `readOnly`/`writeOnly` properties are dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// What a client sends.
    Request,
    /// What a server answers.
    Response,
}

/// An OpenAPI 3.0 document ready to check requests and responses against.
#[derive(Debug)]
pub(crate) struct OpenApi {
    doc: Value,
    definitions: Map<String, Value>,
}

/// Keywords of OpenAPI's schema object that JSON Schema draft 4 does not have or that must not
/// be checked here (`format` values such as `int64` or `float` are annotations).
const DROPPED: &[&str] =
    &["example", "examples", "discriminator", "xml", "externalDocs", "deprecated", "format", "readOnly", "writeOnly"];

impl OpenApi {
    /// Reads a JSON OpenAPI document.
    ///
    /// # Errors
    /// When the file cannot be read or is not JSON.
    pub(crate) fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        Ok(Self::new(doc))
    }

    /// Wraps a parsed document.
    pub(crate) fn new(doc: Value) -> Self {
        let mut definitions = Map::new();
        if let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object) {
            for (name, schema) in schemas {
                definitions.insert(name.clone(), strict(schema, Direction::Response, true));
            }
        }
        OpenApi { doc, definitions }
    }

    /// The path template (`/v2/droplets/{droplet_id}`) that `path` (`/v2/droplets/12`) matches
    /// for `method`, preferring the template with the most literal segments.
    pub(crate) fn template(&self, method: &str, path: &str) -> Option<String> {
        let actual: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let method = method.to_ascii_lowercase();
        let mut best: Option<(usize, String)> = None;
        for (template, item) in self.doc.get("paths")?.as_object()? {
            if item.get(&method).is_none() {
                continue;
            }
            let parts: Vec<&str> = template.trim_end_matches('/').split('/').collect();
            if parts.len() != actual.len() {
                continue;
            }
            let mut literal = 0;
            let matches = parts.iter().zip(&actual).all(|(t, a)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !a.is_empty()
                } else {
                    literal += 1;
                    t == a
                }
            });
            if matches && best.as_ref().is_none_or(|(n, _)| literal > *n) {
                best = Some((literal, template.clone()));
            }
        }
        best.map(|(_, t)| t)
    }

    fn operation(&self, method: &str, template: &str) -> Option<&Value> {
        self.doc.get("paths")?.get(template)?.get(method.to_ascii_lowercase())
    }

    /// The parameters of an operation, path-level ones included.
    fn parameters(&self, method: &str, template: &str) -> Vec<&Value> {
        let item = self.doc.pointer(&format!("/paths/{}", template.replace('~', "~0").replace('/', "~1")));
        let mut out: Vec<&Value> = Vec::new();
        for list in
            [item.and_then(|i| i.get("parameters")), self.operation(method, template).and_then(|o| o.get("parameters"))]
                .into_iter()
                .flatten()
        {
            out.extend(list.as_array().into_iter().flatten());
        }
        out
    }

    /// Validates `instance` against an OpenAPI schema; the violations, empty when valid.
    pub(crate) fn check_schema(
        &self,
        schema: &Value,
        instance: &Value,
        direction: Direction,
        what: &str,
    ) -> Vec<String> {
        let mut root = strict(schema, direction, true);
        if let Some(obj) = root.as_object_mut() {
            obj.insert("definitions".into(), Value::Object(self.definitions.clone()));
        }
        match jsonschema::draft4::new(&root) {
            Ok(v) => v.iter_errors(instance).map(|e| format!("{what}: {e} at {}", e.instance_path())).collect(),
            Err(e) => vec![format!("{what}: the schema does not compile: {e}")],
        }
    }

    /// Checks one request: the operation exists, path parameters, query parameters (declared
    /// and well typed, required ones present) and the JSON body against the request schema.
    /// Returns the violations, empty when the request conforms.
    pub(crate) fn check_request(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Vec<String> {
        let Some(template) = self.template(method, path) else {
            return vec![format!("{method} {path}: no such operation in the spec")];
        };
        let op = self.operation(method, &template).unwrap_or(&Value::Null);
        let at = format!("{method} {template}");
        let mut errors = Vec::new();
        let params = self.parameters(method, &template);
        let actual: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        for (t, a) in template.split('/').zip(&actual) {
            let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else { continue };
            let decoded = percent_decode(a);
            match find_param(&params, "path", name) {
                Some(schema) => errors.extend(self.check_schema(
                    schema,
                    &typed(schema, &decoded),
                    Direction::Request,
                    &format!("{at} path {name}"),
                )),
                None => errors.push(format!("{at}: path parameter {name} is not declared")),
            }
        }
        for (name, value) in query {
            match find_param(&params, "query", name) {
                Some(schema) => errors.extend(self.check_schema(
                    schema,
                    &typed(schema, value),
                    Direction::Request,
                    &format!("{at} query {name}"),
                )),
                None => errors.push(format!("{at}: query parameter {name:?} is not declared by the spec")),
            }
        }
        for p in &params {
            let required = p.get("required").and_then(Value::as_bool) == Some(true);
            let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
            if required && p.get("in").and_then(Value::as_str) == Some("query") && !query.iter().any(|(k, _)| k == name)
            {
                errors.push(format!("{at}: required query parameter {name} is missing"));
            }
        }
        let request_body = op.get("requestBody");
        match (request_body, body) {
            (Some(rb), Some(b)) => match rb.pointer("/content/application~1json/schema") {
                Some(schema) => errors.extend(self.check_schema(schema, b, Direction::Request, &format!("{at} body"))),
                None => errors.push(format!("{at}: the spec has no JSON request body")),
            },
            (Some(rb), None) if rb.get("required").and_then(Value::as_bool) == Some(true) => {
                errors.push(format!("{at}: the request body is required"));
            }
            (None, Some(_)) => errors.push(format!("{at}: the operation takes no request body")),
            _ => {}
        }
        errors
    }

    /// Checks one response body against the schema of `status` (or `default`). Returns the
    /// violations, empty when the response conforms.
    pub(crate) fn check_response(&self, method: &str, path: &str, status: u16, body: Option<&Value>) -> Vec<String> {
        let Some(template) = self.template(method, path) else {
            return vec![format!("{method} {path}: no such operation in the spec")];
        };
        let at = format!("{method} {template} {status}");
        let responses = self.operation(method, &template).and_then(|o| o.get("responses"));
        let Some(response) = responses.and_then(|r| r.get(status.to_string()).or_else(|| r.get("default"))) else {
            return vec![format!("{at}: the spec has no such response")];
        };
        match (response.pointer("/content/application~1json/schema"), body) {
            (Some(schema), Some(b)) => self.check_schema(schema, b, Direction::Response, &at),
            (Some(_), None) => vec![format!("{at}: the spec has a JSON body, the response has none")],
            (None, Some(b)) if !b.is_null() => vec![format!("{at}: the spec has no body, the response has {b}")],
            (None, _) => Vec::new(),
        }
    }
}

fn find_param<'a>(params: &[&'a Value], location: &str, name: &str) -> Option<&'a Value> {
    params
        .iter()
        .find(|p| {
            p.get("in").and_then(Value::as_str) == Some(location) && p.get("name").and_then(Value::as_str) == Some(name)
        })
        .map(|p| p.get("schema").unwrap_or(&Value::Null))
}

/// Whether `schema` (or one of its alternatives) is of `ty`.
fn admits(schema: &Value, ty: &str) -> bool {
    if schema.get("type").and_then(Value::as_str) == Some(ty) {
        return true;
    }
    ["anyOf", "oneOf", "allOf"]
        .iter()
        .filter_map(|k| schema.get(*k).and_then(Value::as_array))
        .flatten()
        .any(|s| admits(s, ty))
}

/// A parameter's text as the JSON value its schema asks for.
fn typed(schema: &Value, text: &str) -> Value {
    if admits(schema, "integer")
        && let Ok(n) = text.parse::<i64>()
    {
        return json!(n);
    }
    if admits(schema, "number")
        && let Ok(n) = text.parse::<f64>()
    {
        return json!(n);
    }
    if admits(schema, "boolean") && matches!(text, "true" | "false") {
        return json!(text == "true");
    }
    Value::String(text.to_owned())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a converted schema is a plain object schema that can be merged into another.
fn mergeable(s: &Value) -> bool {
    let Some(o) = s.as_object() else { return false };
    o.keys().all(|k| matches!(k.as_str(), "type" | "properties" | "required" | "description" | "title"))
        && o.get("type").is_none_or(|t| t == "object")
}

/// The strict JSON Schema (draft 4) for an OpenAPI 3.0 schema (see the module docs); `close`
/// is false inside an `allOf` that could not be merged, where closing a member would refuse
/// the other members' properties.
fn strict(schema: &Value, direction: Direction, close: bool) -> Value {
    let Some(obj) = schema.as_object() else { return schema.clone() };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        return json!({"$ref": r.replace("#/components/schemas/", "#/definitions/")});
    }
    let mut out = Map::new();
    for (k, v) in obj {
        if DROPPED.contains(&k.as_str()) || k == "nullable" {
            continue;
        }
        let converted = match k.as_str() {
            "properties" => {
                let mut props = Map::new();
                for (name, p) in v.as_object().into_iter().flatten() {
                    let hidden = match direction {
                        Direction::Request => p.get("readOnly").and_then(Value::as_bool) == Some(true),
                        Direction::Response => p.get("writeOnly").and_then(Value::as_bool) == Some(true),
                    };
                    if !hidden {
                        props.insert(name.clone(), strict(p, direction, true));
                    }
                }
                Value::Object(props)
            }
            "items" | "not" => strict(v, direction, true),
            "additionalProperties" if v.is_object() => strict(v, direction, true),
            "anyOf" | "oneOf" => {
                Value::Array(v.as_array().into_iter().flatten().map(|s| strict(s, direction, close)).collect())
            }
            "allOf" => Value::Array(v.as_array().into_iter().flatten().map(|s| strict(s, direction, false)).collect()),
            _ => v.clone(),
        };
        out.insert(k.clone(), converted);
    }
    // Properties dropped as read-only (or write-only) are no longer required.
    if let (Some(Value::Array(req)), Some(Value::Object(props))) = (out.get("required").cloned(), out.get("properties"))
    {
        let kept: Vec<Value> = req.into_iter().filter(|r| r.as_str().is_some_and(|n| props.contains_key(n))).collect();
        out.insert("required".into(), Value::Array(kept));
    }
    if obj.get("nullable").and_then(Value::as_bool) == Some(true) {
        if let Some(Value::String(t)) = out.get("type").cloned() {
            out.insert("type".into(), json!([t, "null"]));
        }
        if let Some(Value::Array(mut e)) = out.get("enum").cloned() {
            e.push(Value::Null);
            out.insert("enum".into(), Value::Array(e));
        }
    }
    if let Some(Value::Array(members)) = out.get("allOf").cloned()
        && members.iter().all(|m| mergeable(m) || m.as_object().is_some_and(Map::is_empty))
    {
        out.remove("allOf");
        let mut props = out.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut required: Vec<Value> = out.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut any_object = out.get("type").is_some_and(|t| t == "object") || !props.is_empty();
        for m in &members {
            any_object |= m.get("type").is_some_and(|t| t == "object") || m.get("properties").is_some();
            for (name, p) in m.get("properties").and_then(Value::as_object).into_iter().flatten() {
                match props.get(name) {
                    Some(existing) if existing != p => {
                        let both = json!({"allOf": [existing.clone(), p.clone()]});
                        props.insert(name.clone(), both);
                    }
                    _ => {
                        props.insert(name.clone(), p.clone());
                    }
                }
            }
            for r in m.get("required").and_then(Value::as_array).into_iter().flatten() {
                if !required.contains(r) {
                    required.push(r.clone());
                }
            }
        }
        if any_object {
            out.insert("type".into(), json!("object"));
            out.insert("properties".into(), Value::Object(props));
        }
        if !required.is_empty() {
            out.insert("required".into(), Value::Array(required));
        }
    }
    let object_like = out.contains_key("properties")
        && out.get("type").is_none_or(|t| t == "object" || t.as_array().is_some_and(|a| a.contains(&json!("object"))));
    if close && object_like && !out.contains_key("additionalProperties") && !out.contains_key("allOf") {
        out.insert("additionalProperties".into(), json!(false));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> OpenApi {
        OpenApi::new(json!({
            "openapi": "3.0.0",
            "paths": {
                "/v2/things": {"post": {
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {
                        "allOf": [
                            {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
                            {"type": "object", "properties": {
                                "tags": {"type": "array", "items": {"type": "string"}, "nullable": true},
                                "id": {"type": "integer", "readOnly": true}
                            }}
                        ]
                    }}}},
                    "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/thing"}}}}}
                }},
                "/v2/things/{thing_id}": {"get": {
                    "parameters": [
                        {"in": "path", "name": "thing_id", "required": true, "schema": {"type": "integer", "minimum": 1}},
                        {"in": "query", "name": "per_page", "schema": {"type": "integer", "maximum": 200}}
                    ],
                    "responses": {"204": {}}
                }},
                "/v2/things/special": {"get": {"responses": {"200": {}}}}
            },
            "components": {"schemas": {"thing": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}
        }))
    }

    #[test]
    fn requests_are_checked_strictly() {
        let d = doc();
        assert!(d.check_request("POST", "/v2/things", &[], Some(&json!({"name": "a", "tags": null}))).is_empty());
        assert!(d.check_request("POST", "/v2/things", &[], Some(&json!({"name": "a", "tags": ["x"]}))).is_empty());
        for bad in
            [json!({"name": "a", "bogus": 1}), json!({"name": 1}), json!({"tags": []}), json!({"name": "a", "id": 3})]
        {
            assert!(!d.check_request("POST", "/v2/things", &[], Some(&bad)).is_empty(), "{bad}");
        }
        assert!(!d.check_request("POST", "/v2/things", &[], None).is_empty(), "a required body");
        let q = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        assert!(d.check_request("GET", "/v2/things/12", &q("per_page", "200"), None).is_empty());
        assert!(!d.check_request("GET", "/v2/things/12", &q("per_page", "201"), None).is_empty());
        assert!(!d.check_request("GET", "/v2/things/12", &q("perpage", "1"), None).is_empty());
        assert!(!d.check_request("GET", "/v2/things/0", &[], None).is_empty());
        assert!(!d.check_request("GET", "/v2/things/abc", &[], None).is_empty());
        assert!(!d.check_request("GET", "/v2/things/12", &[], Some(&json!({}))).is_empty());
        assert!(!d.check_request("DELETE", "/v2/things/12", &[], None).is_empty());
        assert_eq!(d.template("GET", "/v2/things/special").as_deref(), Some("/v2/things/special"));
    }

    #[test]
    fn responses_are_checked_with_refs_resolved() {
        let d = doc();
        assert!(d.check_response("POST", "/v2/things", 201, Some(&json!({"name": "a"}))).is_empty());
        assert!(!d.check_response("POST", "/v2/things", 201, Some(&json!({"name": "a", "extra": 1}))).is_empty());
        assert!(!d.check_response("POST", "/v2/things", 201, Some(&json!({}))).is_empty());
        assert!(d.check_response("GET", "/v2/things/3", 204, None).is_empty());
        assert!(!d.check_response("GET", "/v2/things/3", 204, Some(&json!({"x": 1}))).is_empty());
        assert!(!d.check_response("GET", "/v2/things/3", 500, None).is_empty());
    }
}
