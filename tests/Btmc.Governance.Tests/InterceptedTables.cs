using Btmc.Platform.Tables;
using Btmc.Testing;

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

    private int _arrived;

    /// <summary>How many block commits reached the meeting point set by <see cref="MeetAtCommit"/>.</summary>
    public int Arrived => Volatile.Read(ref _arrived);

    /// <summary>Holds every block commit until <paramref name="writers"/> writers have reached theirs (at most 10 s), so that they race for the same height.</summary>
    public void MeetAtCommit(int writers)
    {
        _arrived = 0;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        BeforeBlockCommit = async () =>
        {
            if (Interlocked.Increment(ref _arrived) == writers)
            {
                all.TrySetResult();
            }

            await all.Task.WaitAsync(TimeSpan.FromSeconds(10));
        };
    }

    public ITableClient GetTableClient(string tableName) =>
        tableName == "blocks" ? new Blocks(inner.GetTableClient(tableName), this) : inner.GetTableClient(tableName);

    private sealed class Blocks(ITableClient inner, InterceptedTables owner) : DelegatingTableClient(inner)
    {
        public override async Task<TableEntity?> GetEntityIfExistsAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default)
        {
            if (owner.BeforeBlockRead is { } hook)
            {
                await hook(rowKey);
            }

            return await base.GetEntityIfExistsAsync(partitionKey, rowKey, cancellationToken);
        }

        public override async Task<string> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default)
        {
            if (owner.BeforeBlockCommit is { } hook)
            {
                await hook();
            }

            return await base.AddEntityAsync(entity, cancellationToken);
        }
    }
}
