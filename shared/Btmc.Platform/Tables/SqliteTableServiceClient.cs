using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Btmc.Platform.Tables;

/// <summary>
/// An embedded, file-backed table store with the semantics of Azure Table storage: one SQLite database per table,
/// listed in a small catalog database.
/// </summary>
/// <remarks>
/// <para>
/// On disk, for <c>new SqliteTableServiceClient("&lt;data&gt;/tables.db")</c>: <c>&lt;data&gt;/tables.db</c> is the catalog,
/// <c>meta(key, value)</c> and <c>tables(name_key, name, id)</c> (a table exists when it is listed there), and each
/// table lives in <c>&lt;data&gt;/tables/&lt;lower-cased name&gt;.db</c>, that is the catalog path without its extension
/// (or with <c>.tables</c> appended when it has none) as the folder. Table names are case-insensitive and alphanumeric,
/// so the lower-cased name is a safe file name. A table database holds <c>meta(key, value)</c> and
/// <c>entities(pk, rk, ts, props) WITHOUT ROWID</c> with primary key <c>(pk, rk)</c>; <c>ts</c> is the write time in
/// UTC ticks (the ETag derives from it) and <c>props</c> the binary property encoding of <see cref="EntityCodec"/>.
/// Keys are kept in UTF-16BE databases, so SQLite's binary collation orders them exactly like
/// <see cref="string.CompareOrdinal(string, string)"/>. Table databases use 8 KiB pages: rows of about 1 KB
/// (ledger entries) still fit a page without overflow, which they do not with 4 KiB, while a row inserted at a random
/// key (the event index) dirties, and so writes to the WAL, half as much as with 16 KiB. Measured with the capture
/// benchmark over 60 s: 16 KiB sealed 17,823 events/s, 8 KiB 21,261.
/// </para>
/// <para>
/// Durability: every database runs in WAL mode with <c>synchronous=NORMAL</c>. A committed write survives a crash of
/// the process (kill -9), since the WAL is in the OS page cache; it may be lost on power loss or an OS crash until the
/// next checkpoint. Power-loss durability would need <c>synchronous=FULL</c> (an fsync per commit).
/// </para>
/// <para>
/// Concurrency: each table has its own writer connection behind its own async lock, its own pool of reader
/// connections and its own background checkpoints. Writes to different tables run in parallel; a transaction spans
/// one table and is atomic. A commit to one table leaves the page caches of other tables' readers intact.
/// </para>
/// <para>
/// Timestamps and ETags come from one monotonic clock per store, so they are unique across all tables. Every commit
/// saves the clock in its table's <c>meta</c>; opening the store starts the clock past the largest saved value, so a
/// reopened store (also after kill -9) never hands out a timestamp at or before one it handed out earlier.
/// </para>
/// </remarks>
public sealed class SqliteTableServiceClient : ITableServiceClient, IDisposable
{
    private readonly SqliteConnection _catalog;
    private readonly Lock _catalogLock = new();
    private readonly ConcurrentDictionary<string, SqliteTableDatabase> _tables = new(StringComparer.Ordinal);
    private long _clock;
    private volatile bool _disposed;

    private readonly TimeProvider _time;

    /// <summary>Opens (creating when missing) the store whose catalog database is <paramref name="databasePath"/>.</summary>
    /// <param name="databasePath">The catalog database; each table is a database in the folder beside it.</param>
    /// <param name="time">The clock entity timestamps are read from.</param>
    public SqliteTableServiceClient(string databasePath, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        var fullPath = Path.GetFullPath(databasePath);
        DatabasePath = fullPath;
        var folder = Path.ChangeExtension(fullPath, null);
        TablesDirectory = string.Equals(folder, fullPath, StringComparison.Ordinal) ? fullPath + ".tables" : folder;
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        Directory.CreateDirectory(TablesDirectory);

        _catalog = new SqliteConnection(ConnectionString(fullPath, SqliteOpenMode.ReadWriteCreate));
        try
        {
            _catalog.Open();
            EnableWal(_catalog, fullPath);
            SqliteTableDatabase.ConfigureConnection(_catalog);
            SqliteTableDatabase.Execute(_catalog, """
                CREATE TABLE IF NOT EXISTS meta (key TEXT NOT NULL PRIMARY KEY, value ANY) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS tables (name_key TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL, id INTEGER NOT NULL UNIQUE) WITHOUT ROWID;
                INSERT INTO meta(key, value) VALUES ('clock', 0) ON CONFLICT DO NOTHING;
                """);
            _clock = Convert.ToInt64(SqliteTableDatabase.Scalar(_catalog, "SELECT value FROM meta WHERE key='clock'"), CultureInfo.InvariantCulture);
            foreach (var (key, name, _) in ListCatalog())
            {
                var table = OpenTable(key, name, create: false);
                _tables[key] = table;
                _clock = Math.Max(_clock, table.SavedClock);
            }
        }
        catch
        {
            DisposeConnections();
            throw;
        }
    }

    /// <summary>The full path of the catalog database file.</summary>
    public string DatabasePath { get; }

    /// <summary>The folder holding one database file per table.</summary>
    public string TablesDirectory { get; }

    /// <summary>The latest timestamp handed out (UTC ticks).</summary>
    internal long CurrentTicks => Volatile.Read(ref _clock);

    /// <inheritdoc />
    public ITableClient GetTableClient(string tableName)
    {
        ArgumentNullException.ThrowIfNull(tableName);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new SqliteTableClient(this, tableName);
    }

    /// <summary>Closes every connection of every table; SQLite checkpoints each WAL when its last connection closes.</summary>
    public void Dispose()
    {
        lock (_catalogLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            DisposeConnections();
        }
    }

    internal static string TableKey(string tableName) => tableName.ToLowerInvariant();

    internal static string ConnectionString(string path, SqliteOpenMode mode) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = mode,
        Pooling = false,
        Cache = SqliteCacheMode.Private,
        DefaultTimeout = 30,
    }.ToString();

    internal static void EnableWal(SqliteConnection connection, string path)
    {
        var mode = Convert.ToString(SqliteTableDatabase.Scalar(connection, "PRAGMA journal_mode=WAL"), CultureInfo.InvariantCulture);
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"The database '{path}' could not switch to WAL mode (it is '{mode}').");
        }
    }

    internal static TableStoreException TableNotFound(string tableName) =>
        new(404, "TableNotFound", $"The table '{tableName}' does not exist.");

    /// <summary>
    /// The table's database; 404 TableNotFound when the table does not exist. A table missing from memory is looked
    /// up in the catalog, in case another process over the same folder created it.
    /// </summary>
    internal SqliteTableDatabase FindTable(string tableName)
    {
        var key = TableKey(tableName);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_tables.TryGetValue(key, out var table))
        {
            return table;
        }

        lock (_catalogLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_tables.TryGetValue(key, out table))
            {
                return table;
            }

            using var select = _catalog.CreateCommand();
            select.CommandText = "SELECT name FROM tables WHERE name_key=@k";
            select.Parameters.AddWithValue("@k", key);
            if (select.ExecuteScalar() is not string name)
            {
                throw TableNotFound(tableName);
            }

            table = OpenTable(key, name, create: false);
            InterlockedMax(ref _clock, table.SavedClock);
            _tables[key] = table;
            return table;
        }
    }

    /// <summary>Creates the table's database and lists it in the catalog, unless the table exists.</summary>
    internal SqliteTableDatabase CreateTable(string tableName)
    {
        var key = TableKey(tableName);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_tables.TryGetValue(key, out var existing))
        {
            return existing;
        }

        lock (_catalogLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_tables.TryGetValue(key, out existing))
            {
                return existing;
            }

            // The file first, then the catalog row: a crash in between leaves an unlisted file, which the next
            // creation of the table simply reuses.
            var table = OpenTable(key, tableName, create: true);
            try
            {
                InterlockedMax(ref _clock, table.SavedClock);
                using var insert = _catalog.CreateCommand();
                insert.CommandText =
                    "INSERT INTO tables(name_key, name, id) VALUES (@k, @n, (SELECT COALESCE(MAX(id), 0) + 1 FROM tables)) ON CONFLICT DO NOTHING";
                insert.Parameters.AddWithValue("@k", key);
                insert.Parameters.AddWithValue("@n", tableName);
                insert.ExecuteNonQuery();
            }
            catch
            {
                table.Dispose();
                throw;
            }

            _tables[key] = table;
            return table;
        }
    }

    /// <summary>The next timestamp (UTC ticks): now, or one past the last one when the clock has not moved on.</summary>
    internal long NextTicks()
    {
        while (true)
        {
            var last = Volatile.Read(ref _clock);
            var now = _time.GetUtcNow().UtcTicks;
            var next = now > last ? now : last + 1;
            if (Interlocked.CompareExchange(ref _clock, next, last) == last)
            {
                return next;
            }
        }
    }

    private List<(string Key, string Name, long Id)> ListCatalog()
    {
        var list = new List<(string, string, long)>();
        using var select = _catalog.CreateCommand();
        select.CommandText = "SELECT name_key, name, id FROM tables ORDER BY id";
        using var rows = select.ExecuteReader();
        while (rows.Read())
        {
            list.Add((rows.GetString(0), rows.GetString(1), rows.GetInt64(2)));
        }

        return list;
    }

    private SqliteTableDatabase OpenTable(string key, string name, bool create) =>
        new(this, name, Path.Combine(TablesDirectory, key + ".db"), create);

    private static void InterlockedMax(ref long location, long value)
    {
        var current = Volatile.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private void DisposeConnections()
    {
        foreach (var table in _tables.Values)
        {
            table.Dispose();
        }

        _tables.Clear();
        _catalog.Dispose();
    }
}
