using Btmc.Platform.Tables;

namespace Btmc.Governance.Tests;

/// <summary>
/// A hand-made fake over the real SQLite store: every call goes through, but reads and inserts of block rows (the
/// commit point of a block) first run the hooks set here, so a test can make another instance act at an exact moment.
/// </summary>
internal sealed class InterceptedTables(ITableServiceClient inner) : ITableServiceClient
{
    /// <summary>Runs before a block row is read, with its row key (the height, 19 digits).</summary>
    public Func<string, Task>? BeforeBlockRead { get; set; }

    /// <summary>Runs before a block row is inserted.</summary>
    public Func<Task>? BeforeBlockCommit { get; set; }

    public ITableClient GetTableClient(string tableName) =>
        tableName == "blocks" ? new Blocks(inner.GetTableClient(tableName), this) : inner.GetTableClient(tableName);

    private sealed class Blocks(ITableClient inner, InterceptedTables owner) : ITableClient
    {
        public string Name => inner.Name;

        public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) => inner.CreateIfNotExistsAsync(cancellationToken);

        public async Task<TableEntity?> GetEntityIfExistsAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default)
        {
            if (owner.BeforeBlockRead is { } hook)
            {
                await hook(rowKey);
            }

            return await inner.GetEntityIfExistsAsync(partitionKey, rowKey, cancellationToken);
        }

        public async Task<string> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default)
        {
            if (owner.BeforeBlockCommit is { } hook)
            {
                await hook();
            }

            return await inner.AddEntityAsync(entity, cancellationToken);
        }

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
