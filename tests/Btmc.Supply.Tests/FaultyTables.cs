using Btmc.Platform.Tables;

namespace Btmc.Supply.Tests;

/// <summary>
/// A hand-made fake over the real SQLite store: every call goes through, except that inserting a block row throws
/// while <see cref="FailBlockCommits"/> is set — the process "crashes" after a block's entries are written and
/// before the block is committed.
/// </summary>
internal sealed class FaultyTables(ITableServiceClient inner) : ITableServiceClient
{
    public bool FailBlockCommits { get; set; }

    public ITableClient GetTableClient(string tableName) =>
        tableName == "blocks" ? new Blocks(inner.GetTableClient(tableName), this) : inner.GetTableClient(tableName);

    private sealed class Blocks(ITableClient inner, FaultyTables owner) : ITableClient
    {
        public string Name => inner.Name;

        public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) => inner.CreateIfNotExistsAsync(cancellationToken);

        public Task<TableEntity?> GetEntityIfExistsAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default) =>
            inner.GetEntityIfExistsAsync(partitionKey, rowKey, cancellationToken);

        public Task<string> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default) =>
            owner.FailBlockCommits ? throw new IOException("simulated crash before the block commit") : inner.AddEntityAsync(entity, cancellationToken);

        public Task<string> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default) =>
            inner.UpsertEntityAsync(entity, mode, cancellationToken);

        public Task<string> UpdateEntityAsync(TableEntity entity, string ifMatch, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default) =>
            inner.UpdateEntityAsync(entity, ifMatch, mode, cancellationToken);

        public Task DeleteEntityAsync(string partitionKey, string rowKey, string ifMatch = "*", CancellationToken cancellationToken = default) =>
            inner.DeleteEntityAsync(partitionKey, rowKey, ifMatch, cancellationToken);

        public Task<TablePage> QueryAsync(TableQuery query, CancellationToken cancellationToken = default) => inner.QueryAsync(query, cancellationToken);

        public Task<IReadOnlyList<string>> SubmitTransactionAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default) =>
            inner.SubmitTransactionAsync(actions, cancellationToken);
    }
}
