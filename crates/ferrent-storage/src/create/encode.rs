//! Writing the metainfo dictionary of a new torrent.

use std::collections::BTreeMap;

use ferrent_bencode::OwnedValue;

use super::hasher::Digests;
use super::plan::Plan;
use super::walk::Payload;
use super::{TorrentBuilder, Version};

type Dict = BTreeMap<Vec<u8>, OwnedValue>;

/// Encodes the whole `.torrent` file. Dictionaries are `BTreeMap`s, so keys come out
/// sorted and the encoding is canonical: a v1 info dictionary holds exactly the keys
/// mktorrent writes (`files` or `length`, `name`, `piece length`, `pieces`, and `private`
/// when set), so both tools produce the same info hash for the same input.
pub(crate) fn torrent(
    options: &TorrentBuilder,
    payload: &Payload,
    plan: &Plan,
    digests: &Digests,
) -> Vec<u8> {
    let mut root = Dict::new();
    root.insert(b"info".to_vec(), info(options, payload, plan, digests));

    let tiers: Vec<Vec<&String>> = options
        .trackers
        .iter()
        .map(|tier| tier.iter().filter(|url| !url.is_empty()).collect::<Vec<_>>())
        .filter(|tier| !tier.is_empty())
        .collect();
    if let Some(first) = tiers.first().and_then(|tier| tier.first()) {
        root.insert(b"announce".to_vec(), first.as_str().into());
    }
    if tiers.iter().map(Vec::len).sum::<usize>() > 1 {
        let list = tiers
            .iter()
            .map(|tier| OwnedValue::list(tier.iter().map(|url| OwnedValue::from(url.as_str()))));
        root.insert(b"announce-list".to_vec(), OwnedValue::list(list));
    }
    let seeds: Vec<&String> = options.web_seeds.iter().filter(|url| !url.is_empty()).collect();
    match seeds.as_slice() {
        [] => {}
        [one] => {
            root.insert(b"url-list".to_vec(), one.as_str().into());
        }
        many => {
            let list = many.iter().map(|url| OwnedValue::from(url.as_str()));
            root.insert(b"url-list".to_vec(), OwnedValue::list(list));
        }
    }
    if let Some(comment) = &options.comment {
        root.insert(b"comment".to_vec(), comment.as_str().into());
    }
    if let Some(created_by) = &options.created_by {
        root.insert(b"created by".to_vec(), created_by.as_str().into());
    }
    if let Some(date) = options.creation_date {
        root.insert(b"creation date".to_vec(), date.into());
    }
    if plan.version != Version::V1 {
        let layers: Dict = digests
            .v2
            .iter()
            .flatten()
            .filter(|file| !file.layer.is_empty())
            .map(|file| (file.root.to_vec(), OwnedValue::Bytes(file.layer.concat())))
            .collect();
        root.insert(b"piece layers".to_vec(), OwnedValue::Dict(layers));
    }
    OwnedValue::Dict(root).encode()
}

fn info(options: &TorrentBuilder, payload: &Payload, plan: &Plan, digests: &Digests) -> OwnedValue {
    let mut info = Dict::new();
    info.insert(b"name".to_vec(), payload.name.as_str().into());
    info.insert(b"piece length".to_vec(), int(plan.piece_length));
    if options.private {
        info.insert(b"private".to_vec(), 1.into());
    }
    if plan.version != Version::V2 {
        info.insert(b"pieces".to_vec(), OwnedValue::Bytes(digests.v1.concat()));
        if payload.single_file {
            let length = payload.files.first().map_or(0, |f| f.length);
            info.insert(b"length".to_vec(), int(length));
        } else {
            info.insert(b"files".to_vec(), v1_files(payload, plan));
        }
    }
    if plan.version != Version::V1 {
        info.insert(b"meta version".to_vec(), 2.into());
        info.insert(b"file tree".to_vec(), file_tree(payload, digests));
    }
    OwnedValue::Dict(info)
}

/// The v1 `files` list, with a BEP 47 pad file after each file that needs one.
fn v1_files(payload: &Payload, plan: &Plan) -> OwnedValue {
    let mut list = Vec::with_capacity(payload.files.len());
    for (file, &pad) in payload.files.iter().zip(&plan.pad_after) {
        let path = file.components.iter().map(|c| OwnedValue::from(c.as_str()));
        list.push(OwnedValue::dict([
            ("length", int(file.length)),
            ("path", OwnedValue::list(path)),
        ]));
        if pad > 0 {
            let name = pad.to_string();
            list.push(OwnedValue::dict([
                ("attr", OwnedValue::from("p")),
                ("length", int(pad)),
                ("path", OwnedValue::list([".pad".into(), name.into()])),
            ]));
        }
    }
    OwnedValue::List(list)
}

/// The BEP 52 `file tree`: nested directories, each file a `{"": {length, pieces root}}`.
fn file_tree(payload: &Payload, digests: &Digests) -> OwnedValue {
    let mut tree = Dict::new();
    for (index, file) in payload.files.iter().enumerate() {
        let mut leaf = Dict::new();
        leaf.insert(b"length".to_vec(), int(file.length));
        if let Some(Some(digest)) = digests.v2.get(index) {
            leaf.insert(b"pieces root".to_vec(), OwnedValue::Bytes(digest.root.to_vec()));
        }
        let entry = OwnedValue::dict([("", OwnedValue::Dict(leaf))]);
        if payload.single_file {
            tree.insert(payload.name.as_bytes().to_vec(), entry);
        } else {
            insert_path(&mut tree, &file.components, entry);
        }
    }
    OwnedValue::Dict(tree)
}

fn insert_path(dir: &mut Dict, components: &[String], entry: OwnedValue) {
    match components {
        [] => {}
        [name] => {
            dir.insert(name.as_bytes().to_vec(), entry);
        }
        [first, rest @ ..] => {
            let child = dir
                .entry(first.as_bytes().to_vec())
                .or_insert_with(|| OwnedValue::Dict(Dict::new()));
            // A walk never yields a file and a directory with the same name.
            if let OwnedValue::Dict(child) = child {
                insert_path(child, rest, entry);
            }
        }
    }
}

/// A length as a bencode integer; [`Plan::new`] refused payloads whose lengths do not fit.
fn int(n: u64) -> OwnedValue {
    OwnedValue::Int(i64::try_from(n).unwrap_or(i64::MAX))
}
