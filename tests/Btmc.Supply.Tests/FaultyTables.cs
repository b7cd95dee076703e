using Btmc.Platform.Tables;

namespace Btmc.Supply.Tests;

/// <summary>
/// A hand-made fake over the real SQLite store: every call goes through, except while a fault is set:
/// <list type="bullet">
/// <item><see cref="FailBlockCommits"/>: inserting a block row throws — the process "crashes" after a block's entries
/// are written and before the block is committed;</item>
/// <item><see cref="FailEventIndexWrites"/>: writing the event index throws — a crash after the commit;</item>
/// <item><see cref="CancelEventIndexReads"/>: reading the event index is cancelled — the caller went away mid-request.</item>
/// </list>
/// </summary>
internal sealed class FaultyTables(ITableServiceClient inner) : ITableServiceClient
{
    public bool FailBlockCommits { get; set; }

    public bool FailEventIndexWrites { get; set; }

    public bool CancelEventIndexReads { get; set; }

    public ITableClient GetTableClient(string tableName) => new Faulty(inner.GetTableClient(tableName), this);

    private sealed class Faulty(ITableClient inner, FaultyTables owner) : ITableClient
    {
        private bool IsBlocks => inner.Name == "blocks";

        private bool IsEventIndex => inner.Name.StartsWith("eventindex", StringComparison.Ordinal);

        public string Name => inner.Name;

        public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) => inner.CreateIfNotExistsAsync(cancellationToken);

        public Task<TableEntity?> GetEntityIfExistsAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default) =>
            IsEventIndex && owner.CancelEventIndexReads
                ? throw new OperationCanceledException("simulated: the request was aborted")
                : inner.GetEntityIfExistsAsync(partitionKey, rowKey, cancellationToken);

        public Task<string> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default) =>
            IsBlocks && owner.FailBlockCommits ? throw new IOException("simulated crash before the block commit") : inner.AddEntityAsync(entity, cancellationToken);

        public Task<string> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default) =>
            inner.UpsertEntityAsync(entity, mode, cancellationToken);

        public Task<string> UpdateEntityAsync(TableEntity entity, string ifMatch, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default) =>
            inner.UpdateEntityAsync(entity, ifMatch, mode, cancellationToken);

        public Task DeleteEntityAsync(string partitionKey, string rowKey, string ifMatch = "*", CancellationToken cancellationToken = default) =>
            inner.DeleteEntityAsync(partitionKey, rowKey, ifMatch, cancellationToken);

        public Task<TablePage> QueryAsync(TableQuery query, CancellationToken cancellationToken = default) => inner.QueryAsync(query, cancellationToken);

        public Task<IReadOnlyList<string>> SubmitTransactionAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default) =>
            IsEventIndex && owner.FailEventIndexWrites
                ? throw new IOException("simulated crash after the block commit, before its event index")
                : inner.SubmitTransactionAsync(actions, cancellationToken);
    }
}
