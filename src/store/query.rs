//! The statements every resource table shares, written once: one row by SID within its owner
//! (an account, a service), a keyset page of an owner's rows, an insert or upsert of a whole
//! row, an update of some columns that returns the row, a delete, an existence check. Each table
//! describes itself as a [`Table`]; a row type declared with [`row!`] names its columns once, in
//! its fields.

use super::{
    Keyset, Store, StoreResult,
    db::{Arg, On, Separated, Sql},
    packed::{Unpack, fetch_page},
};

pub use super::db::Row;

/// The column every owned table numbers its rows by; the database assigns it, so inserts and
/// upserts never write it (an upserted row keeps its place in its lists).
const SEQ: &str = "seq";

/// Whether inserts and upserts write `column` (all but [`SEQ`]).
pub(crate) fn is_written(column: &str) -> bool {
    column != SEQ
}

/// The columns of a list (`a, b, c`), in order.
fn each(columns: &'static str) -> impl Iterator<Item = &'static str> {
    columns.split(',').map(str::trim)
}

/// A row whose fields are its table's columns, in order: declared with [`row!`], which writes
/// both from one list.
pub trait Columns {
    /// The column names, in field order (`a, b, c`).
    const COLUMNS: &'static str;
    /// Whether a page of these rows can be read as one value (see `store::packed`).
    const PACKABLE: bool;
    /// Binds the value of every written column (see [`is_written`]), in `COLUMNS` order.
    fn push_written(&self, values: &mut Separated<'_>);
    /// [`Columns::push_written`], moving the values into the statement (no copies: bulk loads).
    fn into_written(self, values: &mut Separated<'_>);
}

/// The column a field of a [`row!`] names: the field's name, without `r#` for the keyword
/// fields (`r#type`) our tables have.
macro_rules! column {
    (r#type) => {
        "type"
    };
    ($field:ident) => {
        stringify!($field)
    };
}
pub(crate) use column;

/// The [`column!`]s of some fields as one list (`a, b, c`).
macro_rules! column_list {
    ($first:ident $(, $rest:ident)*) => {
        concat!(
            $crate::store::query::column!($first)
            $(, ", ", $crate::store::query::column!($rest))*
        )
    };
}
pub(crate) use column_list;

/// Declares a row struct (every field public, `FromRow` derived) and its [`Columns`]: the
/// columns are the fields, in the order listed, so a select list, an insert's values and the
/// struct cannot drift apart.
macro_rules! row {
    ($(#[$attr:meta])* pub struct $row:ident {
        $($(#[$field_attr:meta])* $field:ident: $ty:ty),+ $(,)?
    }) => {
        $(#[$attr])*
        #[derive(sqlx::FromRow, serde::Deserialize)]
        pub struct $row {
            $($(#[$field_attr])*
            #[serde(deserialize_with = "crate::store::packed::unpack")]
            pub $field: $ty),+
        }

        impl $crate::store::query::Columns for $row {
            const COLUMNS: &'static str =
                $crate::store::query::column_list!($($field),+);
            const PACKABLE: bool = true
                $(&& <$ty as $crate::store::packed::Packable>::PACKABLE)+;

            fn push_written(
                &self,
                values: &mut $crate::store::db::Separated<'_>,
            ) {
                $(if $crate::store::query::is_written($crate::store::query::column!($field)) {
                    values.push_bind(&self.$field);
                })+
            }

            fn into_written(
                self,
                values: &mut $crate::store::db::Separated<'_>,
            ) {
                $(if $crate::store::query::is_written($crate::store::query::column!($field)) {
                    values.push_bind(self.$field);
                })+
            }
        }
    };
}
pub(crate) use row;

/// How a resource table is read and written. Column names are as reads see them: `from` may be
/// a join, whose columns are then qualified (`f.account_sid`); writes use unqualified names, so a
/// table read through a join is only read here.
pub struct Table {
    /// What reads select from: the table, or a join.
    pub(crate) from: &'static str,
    /// The columns a row is read with (the select list, and what an insert or update returns).
    pub(crate) columns: &'static str,
    /// The column naming a row's owner (`account_sid`, `service_sid`).
    pub(crate) owner: &'static str,
    /// The row's key column.
    pub(crate) sid: &'static str,
    /// The column pages are ordered by.
    pub(crate) seq: &'static str,
}

/// Pushes the list `columns` (`a, b, c`), each as `{prefix}{column}`.
pub(crate) fn push_columns(qb: &mut Sql, prefix: &str, columns: &'static str) {
    let mut list = qb.separated(", ");
    for column in each(columns) {
        list.push(format_args!("{prefix}{column}"));
    }
}

impl Table {
    /// A plain table whose rows are named by `sid` within their owner, in `seq` order.
    pub(crate) const fn owned(
        from: &'static str,
        columns: &'static str,
        owner: &'static str,
    ) -> Self {
        Self {
            from,
            columns,
            owner,
            sid: "sid",
            seq: SEQ,
        }
    }

    /// A plain table with at most one row per owner (keyed by `owner` alone).
    pub(crate) const fn sole(
        from: &'static str,
        columns: &'static str,
        owner: &'static str,
    ) -> Self {
        Self {
            sid: owner,
            seq: owner,
            ..Self::owned(from, columns, owner)
        }
    }

    /// `select {columns} from {from}`.
    pub(crate) fn select(&self) -> Sql {
        let mut qb = Sql::new("select ");
        qb.push(self.columns).push(" from ").push(self.from);
        qb
    }

    /// `select … where {column} = $1`.
    pub(crate) fn select_where(&self, column: &str, value: &str) -> Sql {
        let mut qb = self.select();
        qb.push(" where ")
            .push(column)
            .push(" = ")
            .push_bind(value.to_owned());
        qb
    }

    /// `select … where {owner} = $1`.
    pub(crate) fn select_owned(&self, owner: &str) -> Sql {
        self.select_where(self.owner, owner)
    }

    /// `select … where {owner} = $1 and {sid} = $2`: the owner's row, or none (another
    /// owner's row is not found, the way a cross-account fetch must behave).
    pub(crate) fn select_one(&self, owner: &str, sid: &str) -> Sql {
        let mut qb = self.select_owned(owner);
        qb.push(" and ")
            .push(self.sid)
            .push(" = ")
            .push_bind(sid.to_owned());
        qb
    }

    pub(crate) async fn fetch<'c, R: Row>(
        &self,
        db: impl Into<On<'c>>,
        owner: &str,
        sid: &str,
    ) -> StoreResult<Option<R>> {
        fetch_optional(self.select_one(owner, sid), db).await
    }

    /// One keyset page of the owner's rows, in `seq` order, read as one value
    /// (`store::packed`).
    pub(crate) async fn page<'c, R: Owned>(
        &self,
        db: impl Into<On<'c>>,
        owner: &str,
        keyset: Keyset,
    ) -> StoreResult<Vec<R>> {
        let mut qb = self.select_owned(owner);
        keyset.push(&mut qb, self.seq);
        match R::UNPACK {
            Some(unpack) => {
                let order = (self.seq, keyset.direction(false));
                fetch_page(qb, self.columns, order, unpack, db).await
            }
            None => fetch_all(qb, db).await,
        }
    }

    /// `insert into {from} (…) values (…) returning {columns}`: every written column of `row`
    /// (which may carry more columns than reads return, e.g. a credential's hash).
    pub(crate) fn insert<R: Columns>(&self, row: &R) -> Sql {
        let mut qb = self.insert_values(row);
        self.push_returning(&mut qb);
        qb
    }

    /// Writes `row` whole: inserted, or replacing every written column but `key` of the row
    /// that has its `key` (an owned row keeps its `seq`, so list order survives).
    pub(crate) async fn upsert<'c, R: Columns>(
        &self,
        db: impl Into<On<'c>>,
        row: &R,
        key: &str,
    ) -> Result<(), sqlx::Error> {
        let mut qb = self.insert_values(row);
        qb.push(" on conflict (").push(key).push(") do update set ");
        let mut replaced = qb.separated(", ");
        for column in each(R::COLUMNS).filter(|c| is_written(c) && *c != key) {
            replaced.push(format_args!("{column} = excluded.{column}"));
        }
        qb.execute(db).await?;
        Ok(())
    }

    /// `insert into {from} (…) values (…)`: every written column of `row`.
    pub(crate) fn insert_values<R: Columns>(&self, row: &R) -> Sql {
        let mut qb = Sql::new("insert into ");
        self.push_into::<R>(&mut qb);
        qb.push(" values (");
        row.push_written(&mut qb.separated(", "));
        qb.push(")");
        qb
    }

    /// `{from} ({every written column of R})`, after an `insert into`.
    pub(crate) fn push_into<R: Columns>(&self, qb: &mut Sql) {
        qb.push(self.from).push(" (");
        let mut written = qb.separated(", ");
        for column in each(R::COLUMNS).filter(|c| is_written(c)) {
            written.push(column);
        }
        qb.push(")");
    }

    /// ` returning {columns}`.
    pub(crate) fn push_returning(&self, qb: &mut Sql) {
        qb.push(" returning ").push(self.columns);
    }

    pub(crate) async fn exists<'c>(
        &self,
        db: impl Into<On<'c>>,
        owner: &str,
        sid: &str,
    ) -> StoreResult<bool> {
        let qb = self.on_owned_key("select 1 from", owner, sid);
        Ok(qb.exists(db).await?)
    }

    /// True when the owner's row was deleted.
    pub(crate) async fn delete<'c>(
        &self,
        db: impl Into<On<'c>>,
        owner: &str,
        sid: &str,
    ) -> StoreResult<bool> {
        let qb = self.on_owned_key("delete from", owner, sid);
        Ok(qb.execute(db).await? > 0)
    }

    /// `{statement} {from} where {owner} = $1 and {sid} = $2`.
    pub(crate) fn on_owned_key(&self, statement: &str, owner: &str, sid: &str) -> Sql {
        let mut qb = Sql::new(statement);
        qb.push(" ").push(self.from);
        self.push_owned_key(&mut qb, owner, sid);
        qb
    }

    /// Applies `assignments` to the owner's row and returns it as changed; `None` when the
    /// owner has no such row.
    pub(crate) async fn update<'c, R: Row>(
        &self,
        db: impl Into<On<'c>>,
        owner: &str,
        sid: &str,
        assignments: Assignments,
    ) -> StoreResult<Option<R>> {
        let mut qb = assignments.qb;
        self.push_owned_key(&mut qb, owner, sid);
        self.push_returning(&mut qb);
        fetch_optional(qb, db).await
    }

    /// [`Table::update`] for a table with one row per owner (keyed by `owner` alone).
    pub(crate) async fn update_sole<'c, R: Row>(
        &self,
        db: impl Into<On<'c>>,
        owner: &str,
        assignments: Assignments,
    ) -> StoreResult<Option<R>> {
        fetch_optional(self.update_where(assignments, self.owner, owner), db).await
    }

    /// `{assignments} where {column} = $n returning {columns}`.
    pub(crate) fn update_where(&self, assignments: Assignments, column: &str, value: &str) -> Sql {
        let mut qb = assignments.qb;
        qb.push(" where ")
            .push(column)
            .push(" = ")
            .push_bind(value.to_owned());
        self.push_returning(&mut qb);
        qb
    }

    /// An update of this table, to be given to [`Table::update`].
    pub(crate) fn assign(&self) -> Assignments {
        let mut qb = Sql::new("update ");
        qb.push(self.from).push(" set ");
        Assignments { qb, first: true }
    }

    fn push_owned_key(&self, qb: &mut Sql, owner: &str, sid: &str) {
        qb.push(" where ")
            .push(self.owner)
            .push(" = ")
            .push_bind(owner.to_owned())
            .push(" and ")
            .push(self.sid)
            .push(" = ")
            .push_bind(sid.to_owned());
    }
}

/// A row of a resource table that belongs to an owner (an account, a service) and is named by
/// its SID within it: what `Store::fetch_owned` and `Store::list_owned` read.
pub trait Owned: Row {
    const TABLE: Table;
    /// The row's place in its list (the keyset the pages are cut by).
    fn seq(&self) -> i64;
    /// How a page of these rows is read as one value (`store::packed`): every `row!` type
    /// without a blob column; `None` reads pages row by row.
    const UNPACK: Option<Unpack<Self>> = None;
}

/// Declares the owned table `$name` (`Table::owned`, with the columns of `$row`, a [`row!`]) and
/// `$row` its rows (every such row has a `seq`); a trailing `Deletable` also lets
/// `Store::delete_owned` delete them.
macro_rules! owned_table {
    ($name:ident: $row:ty = $from:literal by $owner:literal $(, $extra:ident)?) => {
        const $name: $crate::store::query::Table = $crate::store::query::Table::owned(
            $from,
            <$row as $crate::store::query::Columns>::COLUMNS,
            $owner,
        );

        impl $crate::store::query::Owned for $row {
            const TABLE: $crate::store::query::Table = $name;
            fn seq(&self) -> i64 {
                self.seq
            }
            const UNPACK: Option<$crate::store::packed::Unpack<Self>> =
                if <$row as $crate::store::query::Columns>::PACKABLE {
                    Some($crate::store::packed::unpack_rows::<$row>)
                } else {
                    None
                };
        }

        $(impl $crate::store::query::$extra for $row {})?
    };
}
pub(crate) use owned_table;

/// Declares `$row` (a [`row!`]) the `Sole` row of `$from`, keyed by `$owner`.
macro_rules! sole_table {
    ($row:ty = $from:literal by $owner:literal) => {
        impl $crate::store::query::Sole for $row {
            const TABLE: $crate::store::query::Table = $crate::store::query::Table::sole(
                $from,
                <$row as $crate::store::query::Columns>::COLUMNS,
                $owner,
            );
        }
    };
}
pub(crate) use sole_table;

/// An owned row that may be deleted with nothing else to check or remove by hand (its
/// dependants go by foreign-key cascade).
pub trait Deletable: Owned {}

impl Store {
    /// The owner's row `sid`; `None` when the owner has none (another owner's row included).
    pub async fn fetch_owned<R: Owned>(&self, owner: &str, sid: &str) -> StoreResult<Option<R>> {
        R::TABLE.fetch(self, owner, sid).await
    }

    /// One keyset page of the owner's rows, in creation order.
    pub async fn list_owned<R: Owned>(&self, owner: &str, keyset: Keyset) -> StoreResult<Vec<R>> {
        R::TABLE.page(self, owner, keyset).await
    }

    /// True when the owner's row `sid` was deleted.
    pub async fn delete_owned<R: Deletable>(&self, owner: &str, sid: &str) -> StoreResult<bool> {
        R::TABLE.delete(self, owner, sid).await
    }
}

/// A row of a table with at most one row per owner (an account's or a service's webhook
/// target): read with `Store::sole`, written whole with `Store::save_sole`.
pub trait Sole: Row + Columns + Sync {
    const TABLE: Table;
}

impl Store {
    /// The owner's row, if it has one.
    pub async fn sole<R: Sole>(&self, owner: &str) -> StoreResult<Option<R>> {
        fetch_sole(self, owner).await
    }

    /// Writes the owner's row, replacing the one it had.
    pub async fn save_sole<R: Sole>(&self, row: &R) -> StoreResult<()> {
        save_sole(self, row).await
    }
}

/// `Store::sole` on any connection.
pub(crate) async fn fetch_sole<'c, R: Sole>(
    db: impl Into<On<'c>>,
    owner: &str,
) -> StoreResult<Option<R>> {
    fetch_optional(R::TABLE.select_owned(owner), db).await
}

/// `Store::save_sole` on any connection.
pub(crate) async fn save_sole<'c, R: Sole>(db: impl Into<On<'c>>, row: &R) -> StoreResult<()> {
    Ok(R::TABLE.upsert(db, row, R::TABLE.owner).await?)
}

/// The `set` list of an update, built column by column.
pub(crate) struct Assignments {
    qb: Sql,
    first: bool,
}

impl Assignments {
    /// `column = $n`.
    pub(crate) fn set<T: Into<Arg>>(mut self, column: &'static str, value: T) -> Self {
        self.next_column(column);
        self.qb.push_bind(value);
        self
    }

    /// `column = coalesce($n, column)`: an absent (`None`) value leaves the column as it is.
    pub(crate) fn keep_unless<T>(mut self, column: &'static str, value: Option<T>) -> Self
    where
        Option<T>: Into<Arg>,
    {
        self.next_column(column);
        self.qb
            .push("coalesce(")
            .push_bind(value)
            .push(", ")
            .push(column)
            .push(")");
        self
    }

    /// The statement so far (`update … set …`), for a caller that adds its own `where`.
    pub(crate) fn into_builder(self) -> Sql {
        self.qb
    }

    fn next_column(&mut self, column: &'static str) {
        if !self.first {
            self.qb.push(", ");
        }
        self.first = false;
        self.qb.push(column).push(" = ");
    }
}

/// Declares a change of some of a table's columns: every field (named as its column) an
/// `Option`, `None` leaving the column as it is, and `assign` turning it into the update's
/// `column = coalesce($n, column)` list.
macro_rules! change {
    ($(#[$attr:meta])* pub struct $change:ident { $($field:ident: $ty:ty),+ $(,)? }) => {
        $(#[$attr])*
        #[derive(Debug, Default)]
        pub struct $change {
            $(pub $field: Option<$ty>),+
        }

        impl $change {
            /// Adds this change's columns to `assignments`.
            pub(crate) fn assign(
                &self,
                assignments: $crate::store::query::Assignments,
            ) -> $crate::store::query::Assignments {
                assignments$(.keep_unless(
                    $crate::store::query::column!($field),
                    self.$field.clone(),
                ))+
            }
        }
    };
}
pub(crate) use change;

/// Runs a built query for at most one row.
pub(crate) async fn fetch_optional<'c, R: Row>(
    qb: Sql,
    db: impl Into<On<'c>>,
) -> StoreResult<Option<R>> {
    Ok(qb.fetch_optional(db).await?)
}

/// Runs a built query for all its rows.
pub(crate) async fn fetch_all<'c, R: Row>(qb: Sql, db: impl Into<On<'c>>) -> StoreResult<Vec<R>> {
    Ok(qb.fetch_all(db).await?)
}
