//! `/v2/snapshots[/{id}]`, `/v2/account/keys[/{id|fingerprint}]` and `/v2/tags[/{tag}]`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::{Value, json};

use super::droplets::valid_tag;
use super::world::{Key, Snapshot, tag_json};
use super::{ApiError, ApiResult, FakeState, json_status, no_content, ok_json, paginate, parse_body, query};

type Pairs = Query<Vec<(String, String)>>;

/// DigitalOcean's fingerprint of an OpenSSH public key (`<type> <base64 blob> [comment]`): the
/// MD5 digest of the decoded blob as lowercase hex pairs joined by `:`. `None` when the key is
/// not one line of a known type whose blob starts with that type (the SSH wire format).
pub fn fingerprint(public_key: &str) -> Option<String> {
    let mut parts = public_key.split_whitespace();
    let (kind, blob) = (parts.next()?, parts.next()?);
    let known = matches!(kind, "ssh-rsa" | "ssh-ed25519" | "ssh-dss")
        || kind.starts_with("ecdsa-sha2-")
        || kind.starts_with("sk-");
    if !known || public_key.contains('\n') {
        return None;
    }
    let bytes = base64_decode(blob)?;
    let len = usize::try_from(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?)).ok()?;
    if bytes.get(4..4 + len)? != kind.as_bytes() {
        return None;
    }
    let digest = Md5::digest(&bytes);
    Some(digest.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"))
}

/// Standard base64 (with `=` padding) decoded, or `None`.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let body = text.trim_end_matches('=');
    if !text.len().is_multiple_of(4) || text.len() - body.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.as_bytes().chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= value(*c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// `GET /v2/snapshots[?resource_type=droplet|volume]`: the account's droplet snapshots (the
/// fake has no volumes).
pub(crate) async fn list_snapshots(
    State(s): State<FakeState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Pairs,
) -> ApiResult {
    let kind = query(&q, "resource_type");
    if kind.is_some_and(|k| !matches!(k, "droplet" | "volume")) {
        return Err(ApiError::bad_request("resource_type must be droplet or volume"));
    }
    let items = if kind == Some("volume") {
        Vec::new()
    } else {
        s.read(|w| w.snapshots.values().map(Snapshot::to_json).collect())
    };
    ok_json(paginate(items, "snapshots", &q, &uri, &headers)?)
}

fn snapshot_id(id: &str) -> Result<u64, ApiError> {
    id.parse().map_err(|_| ApiError::not_found())
}

/// `GET /v2/snapshots/{id}`.
pub(crate) async fn get_snapshot(State(s): State<FakeState>, Path(id): Path<String>) -> ApiResult {
    let id = snapshot_id(&id)?;
    s.read(|w| ok_json(json!({"snapshot": w.snapshots.get(&id).ok_or_else(ApiError::not_found)?.to_json()})))
}

/// `DELETE /v2/snapshots/{id}`: 204.
pub(crate) async fn delete_snapshot(State(s): State<FakeState>, Path(id): Path<String>) -> ApiResult {
    let id = snapshot_id(&id)?;
    s.write(|w| {
        w.snapshots.remove(&id).ok_or_else(ApiError::not_found)?;
        for d in w.droplets.values_mut() {
            d.snapshot_ids.retain(|x| *x != id);
        }
        Ok::<_, ApiError>(())
    })?;
    no_content()
}

/// `POST /v2/account/keys` body (the writable fields).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyRequest {
    name: Option<String>,
    public_key: Option<String>,
}

/// `GET /v2/account/keys`.
pub(crate) async fn list_keys(State(s): State<FakeState>, headers: HeaderMap, uri: Uri, Query(q): Pairs) -> ApiResult {
    let items = s.read(|w| w.keys.values().map(Key::to_json).collect());
    ok_json(paginate(items, "ssh_keys", &q, &uri, &headers)?)
}

/// `POST /v2/account/keys`: 201 `{ssh_key}`; a public key already on the account is refused.
pub(crate) async fn create_key(State(s): State<FakeState>, body: Bytes) -> ApiResult {
    let req: KeyRequest = parse_body(&body)?;
    let name =
        req.name.filter(|n| !n.trim().is_empty()).ok_or_else(|| ApiError::unprocessable("Name can't be blank"))?;
    let public_key = req.public_key.map(|k| k.trim().to_owned()).unwrap_or_default();
    let fp = fingerprint(&public_key).ok_or_else(|| ApiError::unprocessable("Key invalid type, we support 'ssh-rsa', 'ssh-dss', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', or 'ssh-ed25519'"))?;
    let key = s.write(|w| {
        if w.keys.values().any(|k| k.fingerprint == fp) {
            return Err(ApiError::unprocessable("SSH Key is already in use on your account"));
        }
        let id = w.ids.key();
        let key = Key { id, name, public_key, fingerprint: fp };
        let json = key.to_json();
        w.keys.insert(id, key);
        Ok(json)
    })?;
    json_status(StatusCode::CREATED, json!({"ssh_key": key}))
}

fn find_key<'a>(keys: impl Iterator<Item = &'a Key>, wanted: &str) -> Option<&'a Key> {
    keys.into_iter().find(|k| k.id.to_string() == wanted || k.fingerprint == wanted)
}

/// `GET /v2/account/keys/{id|fingerprint}`.
pub(crate) async fn get_key(State(s): State<FakeState>, Path(key): Path<String>) -> ApiResult {
    s.read(|w| ok_json(json!({"ssh_key": find_key(w.keys.values(), &key).ok_or_else(ApiError::not_found)?.to_json()})))
}

/// `PUT /v2/account/keys/{id|fingerprint}` `{name}`: renames the key.
pub(crate) async fn update_key(State(s): State<FakeState>, Path(key): Path<String>, body: Bytes) -> ApiResult {
    let req: KeyRequest = parse_body(&body)?;
    if req.public_key.is_some() {
        return Err(ApiError::unprocessable("only the name of a key can change"));
    }
    let name =
        req.name.filter(|n| !n.trim().is_empty()).ok_or_else(|| ApiError::unprocessable("Name can't be blank"))?;
    s.write(|w| {
        let id = find_key(w.keys.values(), &key).map(|k| k.id).ok_or_else(ApiError::not_found)?;
        let k = w.keys.get_mut(&id).ok_or_else(ApiError::not_found)?;
        k.name = name;
        ok_json(json!({"ssh_key": k.to_json()}))
    })
}

/// `DELETE /v2/account/keys/{id|fingerprint}`: 204.
pub(crate) async fn delete_key(State(s): State<FakeState>, Path(key): Path<String>) -> ApiResult {
    s.write(|w| {
        let id = find_key(w.keys.values(), &key).map(|k| k.id).ok_or_else(ApiError::not_found)?;
        w.keys.remove(&id);
        Ok::<_, ApiError>(())
    })?;
    no_content()
}

/// `POST /v2/tags` body (the writable field).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagRequest {
    name: Option<String>,
}

/// The tags API's 400 shape `{error, messages, root_causes}` for an invalid name.
fn invalid_tag(name: &str) -> ApiResult {
    let error = format!("Error validating resource tag: \"tag-name \\\"{name}\\\" contains invalid characters\"");
    let body = json!({"error": error, "messages": null, "root_causes": [format!("rpc error: code = InvalidArgument desc = {error}")]});
    json_status(StatusCode::BAD_REQUEST, body)
}

/// `POST /v2/tags`: 201 `{tag}`; an existing tag is answered like a new one.
pub(crate) async fn create_tag(State(s): State<FakeState>, body: Bytes) -> ApiResult {
    let req: TagRequest = parse_body(&body)?;
    let name = req.name.unwrap_or_default();
    if !valid_tag(&name) {
        return invalid_tag(&name);
    }
    let tag = s.write(|w| {
        w.ensure_tag(&name);
        tag_json(w, &name)
    });
    json_status(StatusCode::CREATED, json!({"tag": tag}))
}

/// `GET /v2/tags`.
pub(crate) async fn list_tags(State(s): State<FakeState>, headers: HeaderMap, uri: Uri, Query(q): Pairs) -> ApiResult {
    let items: Vec<Value> = s.read(|w| w.tags.iter().map(|t| tag_json(w, t)).collect());
    ok_json(paginate(items, "tags", &q, &uri, &headers)?)
}

/// `GET /v2/tags/{tag}`.
pub(crate) async fn get_tag(State(s): State<FakeState>, Path(tag): Path<String>) -> ApiResult {
    s.read(|w| {
        if !w.tags.contains(&tag) {
            return Err(ApiError::not_found());
        }
        ok_json(json!({"tag": tag_json(w, &tag)}))
    })
}

/// `DELETE /v2/tags/{tag}`: 204; the tag is removed from every droplet.
pub(crate) async fn delete_tag(State(s): State<FakeState>, Path(tag): Path<String>) -> ApiResult {
    s.write(|w| {
        let before = w.tags.len();
        w.tags.retain(|t| *t != tag);
        if w.tags.len() == before {
            return Err(ApiError::not_found());
        }
        for d in w.droplets.values_mut() {
            d.tags.retain(|t| *t != tag);
        }
        Ok(())
    })?;
    no_content()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example key of many docs (its blob is `ssh-ed25519` and 32 bytes).
    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@example";

    #[test]
    fn fingerprints_are_md5_of_the_blob() {
        let fp = fingerprint(KEY).unwrap();
        assert_eq!(fp, "65:96:2d:fc:e8:d5:a9:11:64:0c:0f:ea:00:6e:5b:bd", "as ssh-keygen -E md5 -lf prints it");
        assert_eq!(fingerprint(&KEY.replace(" test@example", "")), Some(fp), "the comment does not count");
        assert_eq!(fingerprint("ssh-ed25519 notbase64!"), None);
        assert_eq!(fingerprint("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"), None);
        assert_eq!(fingerprint("hello world"), None);
        assert_eq!(base64_decode("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(base64_decode("aGVsbG8h"), Some(b"hello!".to_vec()));
        assert_eq!(base64_decode("aGVsbA=="), Some(b"hell".to_vec()));
        assert_eq!(base64_decode("aGVsbG8"), None);
    }
}
