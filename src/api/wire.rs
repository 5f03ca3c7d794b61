//! A results body read straight from its bytes into typed structs: only the fields
//! `api::model` uses are kept, unknown ones are skipped without being built, and no value
//! of an unexpected type makes the whole body fail. Destinations are decoded into
//! `Destination`s as they are read (no tree of the body is built). A list of the wrong type
//! reads as absent; an entry that is not an object makes its list unusable (an error only if
//! that list is the one used). Duplicate keys: the last one wins, as in `serde_json::Value`.
//! A destination's fields stay `Value`s until decoded: the API sends several in several types.

use std::fmt;
use std::time::SystemTime;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::model::Destination;

/// What every destination of a body is decoded with.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub post_id: &'a str,
    pub now: SystemTime,
}

/// One destination list.
#[derive(Default)]
pub struct List {
    pub destinations: Vec<Destination>,
    /// Status words not recognised, once each.
    pub unknown_statuses: Vec<String>,
    /// The kind of the first entry that was not an object.
    pub not_object: Option<&'static str>,
}

/// The fields read at the top level and, under the same names, inside `data`.
#[derive(Default)]
pub struct Level {
    pub results: Option<List>,
    pub destinations: Option<List>,
    pub post_status: Option<String>,
    pub status: Option<String>,
    pub scheduled_for: Option<String>,
    pub scheduled_at: Option<String>,
    /// The accounts a post is for (GET /posts/{id} only), as sent.
    pub account_ids: Option<Value>,
    /// Top level only: `data` when it is an object (the payload) …
    pub data: Option<Box<Level>>,
    /// … or when it is the destination list itself.
    pub data_list: Option<List>,
}

/// A whole body: its top-level object, or the kind of JSON value it was instead.
pub struct Body(pub Result<Level, &'static str>);

/// Reads a body; fails only when the bytes are not JSON.
pub fn read(ctx: Ctx<'_>, bytes: &[u8]) -> Result<Body, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let body = Shape(LevelSeed { ctx, top: true }).deserialize(&mut de)?;
    de.end()?;
    Ok(Body(body))
}

/// A destination object's fields (`None` when absent or null), in the slots `dest_field`
/// gives their names.
pub struct Fields([Option<Value>; 16]);

impl Fields {
    /// Takes the value of field `name` (inlined, so a literal name is a constant slot).
    #[inline(always)]
    pub fn take(&mut self, name: &str) -> Option<Value> {
        let i = dest_field(name.as_bytes());
        debug_assert!(i.is_some(), "{name} is not read from destinations");
        self.0[i?].take()
    }
}

/// The slot of a destination field (a `match`: one length switch, not 16 comparisons).
#[inline(always)]
fn dest_field(name: &[u8]) -> Option<usize> {
    Some(match name {
        b"status" => 0,
        b"new_status" => 1,
        b"next_retry_at" => 2,
        b"account_id" => 3,
        b"social_account_id" => 4,
        b"error" => 5,
        b"last_error" => 6,
        b"attempts" => 7,
        b"id" => 8,
        b"destination_id" => 9,
        b"account_name" => 10,
        b"platform" => 11,
        b"platform_post_url" => 12,
        b"url" => 13,
        b"permalink" => 14,
        b"published_at" => 15,
        _ => return None,
    })
}

/// What to build from a JSON object or array; the default walks it without building it.
trait Container<'de>: Sized {
    type Out;
    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Result<Self::Out, &'static str>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Err("an object"))
    }
    fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Result<Self::Out, &'static str>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err("an array"))
    }
}

/// Accepts any JSON value: containers go to `C`, any other value becomes its kind.
struct Shape<C>(C);

impl<'de, C: Container<'de>> DeserializeSeed<'de> for Shape<C> {
    type Value = Result<C::Out, &'static str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, C: Container<'de>> Visitor<'de> for Shape<C> {
    type Value = Result<C::Out, &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.seq(seq)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("a string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err("null"))
    }
}

/// Reads a map key as the field it names (`None` for one we do not read), without allocating.
struct Key<F>(fn(&[u8]) -> Option<F>);

impl<'de, F> DeserializeSeed<'de> for Key<F> {
    type Value = Option<F>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<F>, D::Error> {
        d.deserialize_bytes(self)
    }
}

impl<F> Visitor<'_> for Key<F> {
    type Value = Option<F>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<F>, E> {
        Ok((self.0)(v.as_bytes()))
    }
    /// serde_json hands keys read with `deserialize_bytes` here, unescaped but not checked
    /// as UTF-8: a key that is not one of ours needs no check.
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Option<F>, E> {
        Ok((self.0)(v))
    }
}

/// The next value if it is a string; `None` for any other value.
fn string<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<String>, A::Error> {
    Ok(match map.next_value::<Option<Value>>()? {
        Some(Value::String(s)) => Some(s),
        _ => None,
    })
}

enum LevelField {
    Results,
    Destinations,
    PostStatus,
    Status,
    ScheduledFor,
    ScheduledAt,
    AccountIds,
    Data,
}

fn level_field(name: &[u8]) -> Option<LevelField> {
    Some(match name {
        b"results" => LevelField::Results,
        b"destinations" => LevelField::Destinations,
        b"post_status" => LevelField::PostStatus,
        b"status" => LevelField::Status,
        b"scheduled_for" => LevelField::ScheduledFor,
        b"scheduled_at" => LevelField::ScheduledAt,
        b"account_ids" => LevelField::AccountIds,
        b"data" => LevelField::Data,
        _ => return None,
    })
}

/// A `Level`; `data` is read at the top level only.
struct LevelSeed<'a> {
    ctx: Ctx<'a>,
    top: bool,
}

impl<'de> Container<'de> for LevelSeed<'_> {
    type Out = Level;
    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Result<Level, &'static str>, A::Error> {
        let (ctx, mut level) = (self.ctx, Level::default());
        while let Some(key) = map.next_key_seed(Key(level_field))? {
            match key {
                Some(LevelField::Results) => level.results = map.next_value_seed(Shape(ListSeed(ctx)))?.ok(),
                Some(LevelField::Destinations) => {
                    level.destinations = map.next_value_seed(Shape(ListSeed(ctx)))?.ok();
                }
                Some(LevelField::PostStatus) => level.post_status = string(&mut map)?,
                Some(LevelField::Status) => level.status = string(&mut map)?,
                Some(LevelField::ScheduledFor) => level.scheduled_for = string(&mut map)?,
                Some(LevelField::ScheduledAt) => level.scheduled_at = string(&mut map)?,
                Some(LevelField::AccountIds) => level.account_ids = map.next_value()?,
                Some(LevelField::Data) if self.top => {
                    (level.data, level.data_list) = match map.next_value_seed(Shape(DataSeed(ctx)))? {
                        Ok(Ok(payload)) => (Some(Box::new(payload)), None),
                        Ok(Err(list)) => (None, Some(list)),
                        Err(_) => (None, None),
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Ok(level))
    }
}

/// `data`: an object (Ok) or an array (Err), both read.
struct DataSeed<'a>(Ctx<'a>);

impl<'de> Container<'de> for DataSeed<'_> {
    type Out = Result<Level, List>;
    fn map<A: MapAccess<'de>>(self, map: A) -> Result<Result<Self::Out, &'static str>, A::Error> {
        Ok(LevelSeed { ctx: self.0, top: false }.map(map)?.map(Ok))
    }
    fn seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Result<Self::Out, &'static str>, A::Error> {
        Ok(ListSeed(self.0).seq(seq)?.map(Err))
    }
}

/// A destination list, decoded entry by entry.
struct ListSeed<'a>(Ctx<'a>);

impl<'de> Container<'de> for ListSeed<'_> {
    type Out = List;
    fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Result<List, &'static str>, A::Error> {
        let mut list = List { destinations: Vec::with_capacity(4), ..List::default() };
        // One set of slots, filled in place for each entry: no large value moves around.
        let mut fields = Fields(Default::default());
        while let Some(entry) = seq.next_element_seed(Shape(DestSeed(&mut fields)))? {
            match entry {
                Ok(()) => {
                    let (d, unknown) = super::model::destination(self.0, &mut fields);
                    if unknown && !list.unknown_statuses.contains(&d.raw_status) {
                        list.unknown_statuses.push(d.raw_status.clone());
                    }
                    list.destinations.push(d);
                }
                Err(kind) => list.not_object = list.not_object.or(Some(kind)),
            }
        }
        Ok(Ok(list))
    }
}

/// One destination object, read into the slots (emptied first).
struct DestSeed<'f>(&'f mut Fields);

impl<'de> Container<'de> for DestSeed<'_> {
    type Out = ();
    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Result<(), &'static str>, A::Error> {
        let fields = &mut self.0.0;
        fields.iter_mut().for_each(|f| *f = None);
        while let Some(key) = map.next_key_seed(Key(dest_field))? {
            match key {
                Some(i) => fields[i] = map.next_value()?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Ok(()))
    }
}
