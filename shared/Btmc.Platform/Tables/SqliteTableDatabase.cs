using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Btmc.Platform.Tables;

/// <summary>
/// The SQLite database file of one table of a <see cref="SqliteTableServiceClient"/>: its writer connection and write
/// lock, its pool of reader connections and its background checkpoints. Tables never share a database, so a commit to
/// one table neither waits for another table's writer nor empties the page caches of another table's readers.
/// </summary>
/// <remarks>Schema: <c>meta(key, value)</c> holding <c>clock</c>, the store clock as of this table's last commit, and
/// <c>entities(pk, rk, ts, props) WITHOUT ROWID</c> with primary key <c>(pk, rk)</c>.</remarks>
internal sealed class SqliteTableDatabase : IDisposable
{
    /// <summary>The page size of a new table database (measured: see the class remarks of the service).</summary>
    internal const int PageSize = 8192;

    private const int MaxPooledReaders = 8;

    /// <summary>About this many bytes written to the WAL since the last checkpoint start one in the background.</summary>
    private const long CheckpointThresholdBytes = 16L * 1024 * 1024;

    /// <summary>The background checkpoint repeats until at most this many WAL frames are left for its locked pass.</summary>
    private const long LockedCheckpointMaxFrames = 64;

    private readonly SqliteTableServiceClient _store;
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly Dictionary<string, SqliteCommand> _writerCommands = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentBag<ReaderConnection> _readers = new();
    private long _walBytes;
    private readonly Lock _checkpointGate = new();
    private Task _checkpoint = Task.CompletedTask;
    private Exception? _checkpointFailure;
    private volatile bool _disposing;
    private volatile bool _disposed;

    /// <summary>Opens the table's database file, creating it and its schema when <paramref name="create"/> is set.</summary>
    public SqliteTableDatabase(SqliteTableServiceClient store, string tableName, string path, bool create)
    {
        _store = store;
        TableName = tableName;
        DatabasePath = path;
        if (!create && !File.Exists(path))
        {
            throw new InvalidDataException($"The database file '{path}' of the table '{tableName}' is missing.");
        }

        _connectionString = SqliteTableServiceClient.ConnectionString(path, SqliteOpenMode.ReadWriteCreate);
        _writer = new SqliteConnection(_connectionString);
        try
        {
            _writer.Open();
            Execute(_writer, $"PRAGMA page_size={PageSize}");
            Execute(_writer, "PRAGMA encoding='UTF-16be'");
            SqliteTableServiceClient.EnableWal(_writer, path);
            ConfigureConnection(_writer);
            Execute(_writer, "PRAGMA cache_size=-32768");
            // Checkpoints run on a background connection (see CheckpointAsync), so commits never wait for them.
            Execute(_writer, "PRAGMA wal_autocheckpoint=0");
            Execute(_writer, "PRAGMA journal_size_limit=67108864");
            Execute(_writer, """
                CREATE TABLE IF NOT EXISTS meta (key TEXT NOT NULL PRIMARY KEY, value ANY) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS entities (
                    pk TEXT NOT NULL, rk TEXT NOT NULL, ts INTEGER NOT NULL, props BLOB NOT NULL,
                    PRIMARY KEY (pk, rk)) WITHOUT ROWID;
                INSERT INTO meta(key, value) VALUES ('clock', 0) ON CONFLICT DO NOTHING;
                """);
            var encoding = Convert.ToString(Scalar(_writer, "PRAGMA encoding"), CultureInfo.InvariantCulture);
            if (!string.Equals(encoding, "UTF-16be", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException(
                    $"The database '{path}' uses the text encoding {encoding}; this store needs UTF-16be for ordinal key order.");
            }

            SavedClock = Convert.ToInt64(Scalar(_writer, "SELECT value FROM meta WHERE key='clock'"), CultureInfo.InvariantCulture);
        }
        catch
        {
            _writer.Dispose();
            throw;
        }
    }

    /// <summary>The table name as first created.</summary>
    public string TableName { get; }

    public string DatabasePath { get; }

    /// <summary>The store clock saved by the last commit before this database was opened.</summary>
    public long SavedClock { get; }

    /// <summary>Closes every connection; SQLite checkpoints the WAL when the last one closes.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposing = true;
        Task checkpoint;
        lock (_checkpointGate)
        {
            checkpoint = _checkpoint;
        }

        // Let a background checkpoint finish first: it may wait for the write lock. It records its own failures.
        checkpoint.GetAwaiter().GetResult();
        _writeLock.Wait();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var command in _writerCommands.Values)
            {
                command.Dispose();
            }

            _writerCommands.Clear();
            _writer.Dispose();
            while (_readers.TryTake(out var reader))
            {
                reader.Dispose();
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction: committed when it returns, rolled back when it throws.
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, _store);
            if (Interlocked.Exchange(ref _checkpointFailure, null) is { } failure)
            {
                throw new InvalidOperationException(
                    $"A background checkpoint of '{DatabasePath}' failed; the data is safe in the WAL, but the database needs attention.", failure);
            }

            Command(_writerCommands, _writer, "BEGIN IMMEDIATE").ExecuteNonQuery();
            try
            {
                var result = work(new WriteContext(this));
                // The store clock now is at least every timestamp this transaction handed out: saving it with the
                // commit lets a reopened store start past them.
                var saveClock = Command(_writerCommands, _writer, "UPDATE meta SET value=@v WHERE key='clock'", "@v");
                saveClock.Parameters[0].Value = _store.CurrentTicks;
                saveClock.ExecuteNonQuery();
                Command(_writerCommands, _writer, "COMMIT").ExecuteNonQuery();
                if (_walBytes >= CheckpointThresholdBytes)
                {
                    StartCheckpoint();
                }

                return result;
            }
            catch
            {
                if (SQLitePCL.raw.sqlite3_get_autocommit(_writer.Handle) == 0)
                {
                    Command(_writerCommands, _writer, "ROLLBACK").ExecuteNonQuery();
                }

                throw;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Runs a read on a pooled reader connection of this table.</summary>
    public T Read<T>(Func<ReaderConnection, T> read)
    {
        ObjectDisposedException.ThrowIf(_disposed, _store);
        var reader = RentReader();
        try
        {
            return read(reader);
        }
        finally
        {
            ReturnReader(reader);
        }
    }

    internal static SqliteCommand Command(Dictionary<string, SqliteCommand> cache, SqliteConnection connection, string sql, params string[] parameters)
    {
        if (!cache.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            command.Prepare();
            cache[sql] = command;
        }

        return command;
    }

    /// <summary>Starts a background checkpoint unless one runs (called under the write lock).</summary>
    private void StartCheckpoint()
    {
        lock (_checkpointGate)
        {
            if (!_checkpoint.IsCompleted || _disposing)
            {
                return;
            }

            _walBytes = 0;
            _checkpoint = Task.Run(CheckpointAsync);
        }
    }

    /// <summary>
    /// Copies the WAL into the database on a connection of its own while writes go on (the slow part, with its
    /// fsyncs), then briefly takes the write lock to copy the few frames written meanwhile, so that the next write
    /// restarts the WAL from its beginning instead of growing it.
    /// </summary>
    private async Task CheckpointAsync()
    {
        try
        {
            using (var connection = new SqliteConnection(_connectionString))
            {
                connection.Open();
                ConfigureConnection(connection);
                using var checkpoint = connection.CreateCommand();
                checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                for (var round = 0; round < 8 && !_disposing; round++)
                {
                    using var result = checkpoint.ExecuteReader();
                    // (busy, frames in the WAL, frames copied): stop once little is left for the locked pass.
                    if (!result.Read() || result.GetInt64(1) - result.GetInt64(2) <= LockedCheckpointMaxFrames)
                    {
                        break;
                    }
                }
            }

            await _writeLock.WaitAsync().ConfigureAwait(false);
            try
            {
                if (!_disposing)
                {
                    Command(_writerCommands, _writer, "PRAGMA wal_checkpoint(PASSIVE)").ExecuteNonQuery();
                }
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (SqliteException e)
        {
            Volatile.Write(ref _checkpointFailure, e);
        }
    }

    private ReaderConnection RentReader()
    {
        if (_readers.TryTake(out var reader))
        {
            return reader;
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            ConfigureConnection(connection);
            Execute(connection, "PRAGMA query_only=1");
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return new ReaderConnection(connection);
    }

    private void ReturnReader(ReaderConnection reader)
    {
        if (_disposed || _readers.Count >= MaxPooledReaders)
        {
            reader.Dispose();
            return;
        }

        _readers.Add(reader);
        if (_disposed && _readers.TryTake(out var late))
        {
            late.Dispose();
        }
    }

    internal static void ConfigureConnection(SqliteConnection connection)
    {
        Execute(connection, "PRAGMA synchronous=NORMAL");
        Execute(connection, "PRAGMA busy_timeout=30000");
        Execute(connection, "PRAGMA temp_store=MEMORY");
        Execute(connection, "PRAGMA mmap_size=268435456");
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    internal static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>A pooled read-only connection with its prepared commands.</summary>
    internal sealed class ReaderConnection(SqliteConnection connection) : IDisposable
    {
        public SqliteConnection Connection { get; } = connection;

        public Dictionary<string, SqliteCommand> Commands { get; } = new(StringComparer.Ordinal);

        public SqliteCommand Command(string sql, params string[] parameters) =>
            SqliteTableDatabase.Command(Commands, Connection, sql, parameters);

        public void Dispose()
        {
            foreach (var command in Commands.Values)
            {
                command.Dispose();
            }

            Connection.Dispose();
        }
    }

    /// <summary>The entity operations available inside a write transaction on the table.</summary>
    internal readonly struct WriteContext(SqliteTableDatabase owner)
    {
        private const string KeyWhere = " WHERE pk=@pk AND rk=@rk";

        /// <summary>
        /// Applies one operation to a validated entity and returns its new ETag ("" for a delete).
        /// <paramref name="deleteMissingFails"/>: whether deleting a missing entity is 404 (in a transaction) or success.
        /// </summary>
        public string Apply(TableTransactionActionType type, TableEntity entity, string ifMatch, bool deleteMissingFails, int? index)
        {
            switch (type)
            {
                case TableTransactionActionType.Add:
                {
                    var ts = owner._store.NextTicks();
                    var insert = KeyCommand("INSERT INTO entities(pk, rk, ts, props) VALUES (@pk, @rk, @ts, @props) ON CONFLICT DO NOTHING", entity, withValues: true);
                    SetValues(insert, ts, EntityCodec.Encode(entity.Properties));
                    if (insert.ExecuteNonQuery() == 0)
                    {
                        throw new TableStoreException(409, "EntityAlreadyExists",
                            $"The entity ('{entity.PartitionKey}', '{entity.RowKey}') already exists.", index);
                    }

                    return EntityCodec.FormatETag(ts);
                }

                case TableTransactionActionType.UpsertReplace:
                {
                    var ts = owner._store.NextTicks();
                    var upsert = KeyCommand(
                        "INSERT INTO entities(pk, rk, ts, props) VALUES (@pk, @rk, @ts, @props) ON CONFLICT(pk, rk) DO UPDATE SET ts=excluded.ts, props=excluded.props",
                        entity, withValues: true);
                    SetValues(upsert, ts, EntityCodec.Encode(entity.Properties));
                    upsert.ExecuteNonQuery();
                    return EntityCodec.FormatETag(ts);
                }

                case TableTransactionActionType.UpsertMerge:
                {
                    var existing = ReadExisting(entity, withProperties: true);
                    if (existing is null)
                    {
                        return Apply(TableTransactionActionType.Add, entity, "*", deleteMissingFails, index);
                    }

                    return WriteUpdate(entity, Merge(existing.Value.Properties!, entity, index));
                }

                case TableTransactionActionType.UpdateMerge:
                case TableTransactionActionType.UpdateReplace:
                {
                    var merge = type == TableTransactionActionType.UpdateMerge;
                    var existing = ReadExisting(entity, withProperties: merge)
                        ?? throw new TableStoreException(404, "ResourceNotFound",
                            $"The entity ('{entity.PartitionKey}', '{entity.RowKey}') does not exist.", index);
                    CheckETag(existing.Ticks, ifMatch, entity, index);
                    return WriteUpdate(entity, merge ? Merge(existing.Properties!, entity, index) : entity.Properties);
                }

                case TableTransactionActionType.Delete:
                {
                    if (ifMatch != "*")
                    {
                        var existing = ReadExisting(entity, withProperties: false);
                        if (existing is null)
                        {
                            return deleteMissingFails ? throw NotFound(entity, index) : string.Empty;
                        }

                        CheckETag(existing.Value.Ticks, ifMatch, entity, index);
                    }

                    var delete = KeyCommand("DELETE FROM entities" + KeyWhere, entity, withValues: false);
                    if (delete.ExecuteNonQuery() == 0 && deleteMissingFails)
                    {
                        throw NotFound(entity, index);
                    }

                    return string.Empty;
                }

                default:
                    throw new TableStoreException(400, "InvalidInput", $"Unknown action type {type}.", index);
            }
        }

        private static TableStoreException NotFound(TableEntity entity, int? index) =>
            new(404, "ResourceNotFound", $"The entity ('{entity.PartitionKey}', '{entity.RowKey}') does not exist.", index);

        private static void CheckETag(long storedTicks, string ifMatch, TableEntity entity, int? index)
        {
            if (ifMatch != "*" && !string.Equals(ifMatch, EntityCodec.FormatETag(storedTicks), StringComparison.Ordinal))
            {
                throw new TableStoreException(412, "UpdateConditionNotSatisfied",
                    $"The entity ('{entity.PartitionKey}', '{entity.RowKey}') has changed: its ETag is not {ifMatch}.", index);
            }
        }

        private static Dictionary<string, object> Merge(Dictionary<string, object> existing, TableEntity entity, int? index)
        {
            foreach (var (name, value) in entity.Properties)
            {
                existing[name] = value;
            }

            TableRules.CheckSize(entity.PartitionKey, entity.RowKey, existing, index);
            return existing;
        }

        private string WriteUpdate(TableEntity entity, IReadOnlyDictionary<string, object> properties)
        {
            var ts = owner._store.NextTicks();
            var update = KeyCommand("UPDATE entities SET ts=@ts, props=@props" + KeyWhere, entity, withValues: true);
            SetValues(update, ts, EntityCodec.Encode(properties));
            update.ExecuteNonQuery();
            return EntityCodec.FormatETag(ts);
        }

        private (long Ticks, Dictionary<string, object>? Properties)? ReadExisting(TableEntity entity, bool withProperties)
        {
            var select = KeyCommand(
                withProperties ? "SELECT ts, props FROM entities" + KeyWhere : "SELECT ts FROM entities" + KeyWhere,
                entity, withValues: false);
            using var reader = select.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            var ticks = reader.GetInt64(0);
            return (ticks, withProperties ? EntityCodec.Decode(reader.GetFieldValue<byte[]>(1)) : null);
        }

        private SqliteCommand KeyCommand(string sql, TableEntity entity, bool withValues)
        {
            var command = withValues
                ? Command(owner._writerCommands, owner._writer, sql, "@pk", "@rk", "@ts", "@props")
                : Command(owner._writerCommands, owner._writer, sql, "@pk", "@rk");
            command.Parameters[0].Value = entity.PartitionKey;
            command.Parameters[1].Value = entity.RowKey;
            return command;
        }

        private void SetValues(SqliteCommand command, long ticks, byte[] properties)
        {
            command.Parameters[2].Value = ticks;
            command.Parameters[3].Value = properties;
            owner._walBytes += properties.Length + 64;
        }
    }
}
