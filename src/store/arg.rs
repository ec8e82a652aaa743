//! The values statements bind, shared by both drivers (`db`) and the group-commit writer's
//! own SQLite calls (`direct`).

/// A value bound to a `$n` placeholder. Typed (a `NULL` keeps its type), so PostgreSQL needs
/// no inference from the statement.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! arg_from {
    ($variant:ident: $($ty:ty => $conv:expr),+ $(,)?) => {
        $(impl From<$ty> for Arg {
            fn from(value: $ty) -> Self {
                #[allow(clippy::redundant_closure_call)]
                Arg::$variant(($conv)(value))
            }
        })+
    };
}
arg_from!(Text:
    String => Some,
    &str => |v: &str| Some(v.to_owned()),
    Option<String> => |v| v,
    Option<&str> => |v: Option<&str>| v.map(str::to_owned),
);
arg_from!(Int: i64 => Some, Option<i64> => |v| v);
arg_from!(Bool: bool => Some, Option<bool> => |v| v);
arg_from!(Bytes:
    Vec<u8> => Some,
    &[u8] => |v: &[u8]| Some(v.to_vec()),
    Option<Vec<u8>> => |v| v,
);

/// A borrowed value binds as its copy (row fields are bound by reference).
impl<T: Clone + Into<Arg>> From<&T> for Arg {
    fn from(value: &T) -> Self {
        value.clone().into()
    }
}
