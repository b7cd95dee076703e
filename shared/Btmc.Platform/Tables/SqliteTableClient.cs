using System.Text;

namespace Btmc.Platform.Tables;

/// <summary>One table of a <see cref="SqliteTableServiceClient"/>. Stateless apart from its name; safe to share.</summary>
internal sealed class SqliteTableClient : ITableClient
{
    private const string Columns = "SELECT pk, rk, ts, props FROM entities";

    private readonly SqliteTableServiceClient _service;
    private readonly TableStoreException? _invalidName;
    private SqliteTableDatabase? _database;

    public SqliteTableClient(SqliteTableServiceClient service, string name)
    {
        _service = service;
        Name = name;
        try
        {
            TableRules.ValidateTableName(name);
        }
        catch (TableStoreException e)
        {
            // The SDK's GetTableClient does not validate either: the service refuses the first request.
            _invalidName = e;
        }
    }

    public string Name { get; }

    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfInvalidName();
        cancellationToken.ThrowIfCancellationRequested();
        _database = _service.CreateTable(Name);
        return Task.CompletedTask;
    }

    public Task<TableEntity?> GetEntityIfExistsAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalidName();
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(rowKey);
        cancellationToken.ThrowIfCancellationRequested();
        TableRules.ValidateKey(partitionKey, "PartitionKey");
        TableRules.ValidateKey(rowKey, "RowKey");
        var entity = Database().Read(reader =>
        {
            var select = reader.Command("SELECT ts, props FROM entities WHERE pk=@pk AND rk=@rk", "@pk", "@rk");
            select.Parameters[0].Value = partitionKey;
            select.Parameters[1].Value = rowKey;
            using var row = select.ExecuteReader();
            return row.Read() ? ToEntity(partitionKey, rowKey, row.GetInt64(0), row.GetFieldValue<byte[]>(1), null) : null;
        });
        return Task.FromResult(entity);
    }

    public Task<string> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default) =>
        WriteOneAsync(TableTransactionActionType.Add, entity, "*", cancellationToken);

    public Task<string> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default) =>
        WriteOneAsync(mode == TableUpdateMode.Merge ? TableTransactionActionType.UpsertMerge : TableTransactionActionType.UpsertReplace,
            entity, "*", cancellationToken);

    public Task<string> UpdateEntityAsync(TableEntity entity, string ifMatch, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(ifMatch);
        return WriteOneAsync(mode == TableUpdateMode.Merge ? TableTransactionActionType.UpdateMerge : TableTransactionActionType.UpdateReplace,
            entity, ifMatch, cancellationToken);
    }

    public async Task DeleteEntityAsync(string partitionKey, string rowKey, string ifMatch = "*", CancellationToken cancellationToken = default)
    {
        ThrowIfInvalidName();
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(rowKey);
        ArgumentException.ThrowIfNullOrEmpty(ifMatch);
        TableRules.ValidateKey(partitionKey, "PartitionKey");
        TableRules.ValidateKey(rowKey, "RowKey");
        var key = new TableEntity(partitionKey, rowKey, EmptyProperties);
        await Database().WriteAsync(
            ctx => ctx.Apply(TableTransactionActionType.Delete, key, ifMatch, deleteMissingFails: false, index: null),
            cancellationToken).ConfigureAwait(false);
    }

    public Task<TablePage> QueryAsync(TableQuery query, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalidName();
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        if (query.MaxPerPage is < 1 or > TableRules.MaxPageSize)
        {
            throw new TableStoreException(400, "InvalidInput",
                $"MaxPerPage is {query.MaxPerPage}; it must be between 1 and {TableRules.MaxPageSize}.");
        }

        string? contPk = null, contRk = null;
        if (query.ContinuationToken is not null)
        {
            (contPk, contRk) = EntityCodec.DecodeContinuation(query.ContinuationToken);
        }

        var database = Database();
        var conditions = new List<string>(4);
        var parameters = new List<(string Name, object Value)>(6);
        if (query.PartitionKey is not null)
        {
            conditions.Add("pk=@pk");
            parameters.Add(("@pk", query.PartitionKey));
            if (contPk is not null)
            {
                var order = string.CompareOrdinal(contPk, query.PartitionKey);
                if (order > 0)
                {
                    // The token points past the partition: nothing is left.
                    return Task.FromResult(new TablePage([], null));
                }

                if (order == 0)
                {
                    conditions.Add("rk>=@crk");
                    parameters.Add(("@crk", contRk!));
                }
            }
        }
        else if (contPk is not null)
        {
            conditions.Add("pk>=@cpk AND (pk>@cpk OR rk>=@crk)");
            parameters.Add(("@cpk", contPk));
            parameters.Add(("@crk", contRk!));
        }

        if (query.RowKeyFrom is not null)
        {
            conditions.Add("rk>=@from");
            parameters.Add(("@from", query.RowKeyFrom));
        }

        if (query.RowKeyTo is not null)
        {
            conditions.Add("rk<@to");
            parameters.Add(("@to", query.RowKeyTo));
        }

        var sql = new StringBuilder(Columns);
        if (conditions.Count > 0)
        {
            sql.Append(" WHERE ").AppendJoin(" AND ", conditions);
        }

        sql.Append(" ORDER BY pk, rk LIMIT @limit");
        parameters.Add(("@limit", query.MaxPerPage + 1));
        var select = query.Select is null ? null : new HashSet<string>(query.Select, StringComparer.Ordinal);
        var text = sql.ToString();
        var names = new string[parameters.Count];
        for (var i = 0; i < parameters.Count; i++)
        {
            names[i] = parameters[i].Name;
        }

        var page = database.Read(reader =>
        {
            var command = reader.Command(text, names);
            for (var i = 0; i < parameters.Count; i++)
            {
                command.Parameters[i].Value = parameters[i].Value;
            }

            var items = new List<TableEntity>(Math.Min(query.MaxPerPage, 256));
            string? token = null;
            using var rows = command.ExecuteReader();
            while (rows.Read())
            {
                var pk = rows.GetString(0);
                var rk = rows.GetString(1);
                if (items.Count == query.MaxPerPage)
                {
                    token = EntityCodec.EncodeContinuation(pk, rk);
                    break;
                }

                items.Add(ToEntity(pk, rk, rows.GetInt64(2), rows.GetFieldValue<byte[]>(3), select));
            }

            return new TablePage(items, token);
        });
        return Task.FromResult(page);
    }

    public async Task<IReadOnlyList<string>> SubmitTransactionAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalidName();
        ArgumentNullException.ThrowIfNull(actions);
        TableRules.ValidateTransaction(actions);
        return await Database().WriteAsync<IReadOnlyList<string>>(ctx =>
        {
            var etags = new string[actions.Count];
            for (var i = 0; i < actions.Count; i++)
            {
                var action = actions[i];
                etags[i] = ctx.Apply(action.ActionType, action.Entity, action.IfMatch, deleteMissingFails: true, index: i);
            }

            return etags;
        }, cancellationToken).ConfigureAwait(false);
    }

    private static readonly IReadOnlyDictionary<string, object> EmptyProperties = new Dictionary<string, object>();

    private async Task<string> WriteOneAsync(TableTransactionActionType type, TableEntity entity, string ifMatch, CancellationToken cancellationToken)
    {
        ThrowIfInvalidName();
        ArgumentNullException.ThrowIfNull(entity);
        TableRules.ValidateEntity(entity);
        return await Database().WriteAsync(
            ctx => ctx.Apply(type, entity, ifMatch, deleteMissingFails: false, index: null),
            cancellationToken).ConfigureAwait(false);
    }

    private static TableEntity ToEntity(string pk, string rk, long ticks, byte[] properties, IReadOnlySet<string>? select) =>
        new(pk, rk, EntityCodec.Decode(properties, select))
        {
            ETag = EntityCodec.FormatETag(ticks),
            Timestamp = new DateTimeOffset(ticks, TimeSpan.Zero),
        };

    /// <summary>The table's database (tables are never dropped, so it is remembered once found).</summary>
    private SqliteTableDatabase Database() => _database ??= _service.FindTable(Name);

    private void ThrowIfInvalidName()
    {
        if (_invalidName is not null)
        {
            throw new TableStoreException(_invalidName.Status, _invalidName.ErrorCode, _invalidName.Message);
        }
    }
}
