//! The statements every resource table shares, written once: one row by SID within its owner
//! (an account, a service), a keyset page of an owner's rows, an update of some columns that
//! returns the row, a delete, an existence check. Each table describes itself as a [`Table`].

use sqlx::{
    Encode, FromRow, QueryBuilder, Sqlite, SqliteExecutor, Type, query_builder::Separated,
    sqlite::SqliteRow,
};

use super::{Keyset, Store, StoreResult};

/// A row type read whole by a query built here.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}

/// How a resource table is read and written. Column names are as reads see them: `from` may be
/// a join, whose columns are then qualified (`f.account_sid`); writes use unqualified names, so a
/// table read through a join is only read here.
pub struct Table {
    /// What reads select from: the table, or a join.
    pub(crate) from: &'static str,
    /// The columns a row is read with (the select list, and what an update returns).
    pub(crate) columns: &'static str,
    /// The column naming a row's owner (`account_sid`, `service_sid`).
    pub(crate) owner: &'static str,
    /// The row's key column.
    pub(crate) sid: &'static str,
    /// The column pages are ordered by.
    pub(crate) seq: &'static str,
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
            seq: "seq",
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

    /// `select {columns} from {from} where {owner} = $1`.
    pub(crate) fn select_owned(&self, owner: &str) -> QueryBuilder<Sqlite> {
        let mut qb = QueryBuilder::new("select ");
        qb.push(self.columns)
            .push(" from ")
            .push(self.from)
            .push(" where ")
            .push(self.owner)
            .push(" = ")
            .push_bind(owner.to_owned());
        qb
    }

    /// `select … where {owner} = $1 and {sid} = $2`: the owner's row, or none (another
    /// owner's row is not found, the way a cross-account fetch must behave).
    pub(crate) fn select_one(&self, owner: &str, sid: &str) -> QueryBuilder<Sqlite> {
        let mut qb = self.select_owned(owner);
        qb.push(" and ")
            .push(self.sid)
            .push(" = ")
            .push_bind(sid.to_owned());
        qb
    }

    pub(crate) async fn fetch<'c, R: Row>(
        &self,
        db: impl SqliteExecutor<'c>,
        owner: &str,
        sid: &str,
    ) -> StoreResult<Option<R>> {
        fetch_optional(self.select_one(owner, sid), db).await
    }

    /// One keyset page of the owner's rows, in `seq` order.
    pub(crate) async fn page<'c, R: Row>(
        &self,
        db: impl SqliteExecutor<'c>,
        owner: &str,
        keyset: Keyset,
    ) -> StoreResult<Vec<R>> {
        let mut qb = self.select_owned(owner);
        keyset.push(&mut qb, self.seq);
        fetch_all(qb, db).await
    }

    pub(crate) async fn exists<'c>(
        &self,
        db: impl SqliteExecutor<'c>,
        owner: &str,
        sid: &str,
    ) -> StoreResult<bool> {
        let mut qb = self.on_owned_key("select 1 from", owner, sid);
        let found: Option<i64> = qb.build_query_scalar().fetch_optional(db).await?;
        Ok(found.is_some())
    }

    /// Applies `assignments` to the owner's row and returns it as changed; `None` when the
    /// owner has no such row.
    pub(crate) async fn update<'c, R: Row>(
        &self,
        db: impl SqliteExecutor<'c>,
        owner: &str,
        sid: &str,
        assignments: Assignments,
    ) -> StoreResult<Option<R>> {
        let mut qb = assignments.qb;
        self.push_owned_key(&mut qb, owner, sid);
        qb.push(" returning ").push(self.columns);
        fetch_optional(qb, db).await
    }

    /// [`Table::update`] for a table with one row per owner (keyed by `owner` alone).
    pub(crate) async fn update_sole<'c, R: Row>(
        &self,
        db: impl SqliteExecutor<'c>,
        owner: &str,
        assignments: Assignments,
    ) -> StoreResult<Option<R>> {
        let mut qb = assignments.qb;
        qb.push(" where ")
            .push(self.owner)
            .push(" = ")
            .push_bind(owner.to_owned())
            .push(" returning ")
            .push(self.columns);
        fetch_optional(qb, db).await
    }

    /// Writes the owner's only row (keyed by `owner` alone), replacing every column of an
    /// existing one. `bind` pushes one value per column, in `columns` order.
    pub(crate) async fn upsert_sole<'c>(
        &self,
        db: impl SqliteExecutor<'c>,
        bind: impl FnOnce(&mut Separated<'_, Sqlite, &'static str>),
    ) -> StoreResult<()> {
        let mut qb = QueryBuilder::<Sqlite>::new("insert into ");
        qb.push(self.from)
            .push(" (")
            .push(self.columns)
            .push(") values (");
        bind(&mut qb.separated(", "));
        qb.push(") on conflict (")
            .push(self.owner)
            .push(") do update set ");
        let mut replaced = qb.separated(", ");
        for column in self.columns.split(',').map(str::trim) {
            if column != self.owner {
                replaced.push(format_args!("{column} = excluded.{column}"));
            }
        }
        qb.build().execute(db).await?;
        Ok(())
    }

    /// True when the owner's row was deleted.
    pub(crate) async fn delete<'c>(
        &self,
        db: impl SqliteExecutor<'c>,
        owner: &str,
        sid: &str,
    ) -> StoreResult<bool> {
        let mut qb = self.on_owned_key("delete from", owner, sid);
        Ok(qb.build().execute(db).await?.rows_affected() > 0)
    }

    /// `{statement} {from} where {owner} = $1 and {sid} = $2`.
    fn on_owned_key(&self, statement: &str, owner: &str, sid: &str) -> QueryBuilder<Sqlite> {
        let mut qb = QueryBuilder::<Sqlite>::new(statement);
        qb.push(" ").push(self.from);
        self.push_owned_key(&mut qb, owner, sid);
        qb
    }

    /// An update of this table, to be given to [`Table::update`].
    pub(crate) fn assign(&self) -> Assignments {
        let mut qb = QueryBuilder::new("update ");
        qb.push(self.from).push(" set ");
        Assignments { qb, first: true }
    }

    fn push_owned_key(&self, qb: &mut QueryBuilder<Sqlite>, owner: &str, sid: &str) {
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
}

/// Declares the owned table `$name` (`Table::owned`) and `$row` its rows (every such row has a
/// `seq`); a trailing `Deletable` also lets `Store::delete_owned` delete them.
macro_rules! owned_table {
    ($name:ident: $row:ty = $from:literal by $owner:literal, $columns:literal $(, $extra:ident)?) => {
        const $name: $crate::store::query::Table =
            $crate::store::query::Table::owned($from, $columns, $owner);

        impl $crate::store::query::Owned for $row {
            const TABLE: $crate::store::query::Table = $name;
            fn seq(&self) -> i64 {
                self.seq
            }
        }

        $(impl $crate::store::query::$extra for $row {})?
    };
}
pub(crate) use owned_table;

/// Declares `$row` a `Sole` row of `$from`, keyed by `$owner`: its columns are the fields
/// listed, in that order, so the column list and the values bound cannot drift apart.
macro_rules! sole_table {
    ($row:ty = $from:literal by $owner:ident: $first:ident $(, $rest:ident)*) => {
        impl $crate::store::query::Sole for $row {
            const TABLE: $crate::store::query::Table = $crate::store::query::Table::sole(
                $from,
                concat!(stringify!($first) $(, ", ", stringify!($rest))*),
                stringify!($owner),
            );

            fn push_values(
                &self,
                values: &mut sqlx::query_builder::Separated<'_, sqlx::Sqlite, &'static str>,
            ) {
                values.push_bind(&self.$first)$(.push_bind(&self.$rest))*;
            }
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
        R::TABLE.fetch(&self.pool, owner, sid).await
    }

    /// One keyset page of the owner's rows, in creation order.
    pub async fn list_owned<R: Owned>(&self, owner: &str, keyset: Keyset) -> StoreResult<Vec<R>> {
        R::TABLE.page(&self.pool, owner, keyset).await
    }

    /// True when the owner's row `sid` was deleted.
    pub async fn delete_owned<R: Deletable>(&self, owner: &str, sid: &str) -> StoreResult<bool> {
        R::TABLE.delete(&self.pool, owner, sid).await
    }
}

/// A row of a table with at most one row per owner (an account's or a service's webhook
/// target): read with `Store::sole`, written whole with `Store::save_sole`.
pub trait Sole: Row + Sync {
    const TABLE: Table;
    /// Pushes the row's values, in `TABLE.columns` order.
    fn push_values(&self, values: &mut Separated<'_, Sqlite, &'static str>);
}

impl Store {
    /// The owner's row, if it has one.
    pub async fn sole<R: Sole>(&self, owner: &str) -> StoreResult<Option<R>> {
        fetch_sole(&self.pool, owner).await
    }

    /// Writes the owner's row, replacing the one it had.
    pub async fn save_sole<R: Sole>(&self, row: &R) -> StoreResult<()> {
        save_sole(&self.pool, row).await
    }
}

/// `Store::sole` on any connection.
pub(crate) async fn fetch_sole<'c, R: Sole>(
    db: impl SqliteExecutor<'c>,
    owner: &str,
) -> StoreResult<Option<R>> {
    fetch_optional(R::TABLE.select_owned(owner), db).await
}

/// `Store::save_sole` on any connection.
pub(crate) async fn save_sole<'c, R: Sole>(
    db: impl SqliteExecutor<'c>,
    row: &R,
) -> StoreResult<()> {
    R::TABLE
        .upsert_sole(db, |values| row.push_values(values))
        .await
}

/// The `set` list of an update, built column by column.
pub(crate) struct Assignments {
    qb: QueryBuilder<Sqlite>,
    first: bool,
}

impl Assignments {
    /// `column = $n`.
    pub(crate) fn set<'t, T: Encode<'t, Sqlite> + Type<Sqlite> + 't>(
        mut self,
        column: &'static str,
        value: T,
    ) -> Self {
        self.next_column(column);
        self.qb.push_bind(value);
        self
    }

    /// `column = coalesce($n, column)`: an absent (`None`) value leaves the column as it is.
    pub(crate) fn keep_unless<'t, T>(mut self, column: &'static str, value: Option<T>) -> Self
    where
        Option<T>: Encode<'t, Sqlite> + Type<Sqlite> + 't,
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

    fn next_column(&mut self, column: &'static str) {
        if !self.first {
            self.qb.push(", ");
        }
        self.first = false;
        self.qb.push(column).push(" = ");
    }
}

/// Runs a built query for at most one row.
pub(crate) async fn fetch_optional<'c, R: Row>(
    mut qb: QueryBuilder<Sqlite>,
    db: impl SqliteExecutor<'c>,
) -> StoreResult<Option<R>> {
    Ok(qb.build_query_as::<R>().fetch_optional(db).await?)
}

/// Runs a built query for all its rows.
pub(crate) async fn fetch_all<'c, R: Row>(
    mut qb: QueryBuilder<Sqlite>,
    db: impl SqliteExecutor<'c>,
) -> StoreResult<Vec<R>> {
    Ok(qb.build_query_as::<R>().fetch_all(db).await?)
}
