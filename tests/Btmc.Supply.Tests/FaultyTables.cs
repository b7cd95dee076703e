using Btmc.Platform.Tables;
using Btmc.Testing;

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

    private sealed class Faulty(ITableClient inner, FaultyTables owner) : DelegatingTableClient(inner)
    {
        private bool IsBlocks => Name == "blocks";

        private bool IsEventIndex => Name.StartsWith("eventindex", StringComparison.Ordinal);

        public override Task<TableEntity?> GetEntityIfExistsAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default) =>
            IsEventIndex && owner.CancelEventIndexReads
                ? throw new OperationCanceledException("simulated: the request was aborted")
                : base.GetEntityIfExistsAsync(partitionKey, rowKey, cancellationToken);

        public override Task<string> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default) =>
            IsBlocks && owner.FailBlockCommits ? throw new IOException("simulated crash before the block commit") : base.AddEntityAsync(entity, cancellationToken);

        public override Task<IReadOnlyList<string>> SubmitTransactionAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default) =>
            IsEventIndex && owner.FailEventIndexWrites
                ? throw new IOException("simulated crash after the block commit, before its event index")
                : base.SubmitTransactionAsync(actions, cancellationToken);
    }
}
