namespace Btmc.Platform.Tables;

/// <summary>
/// Writes any number of actions on one table as entity group transactions that each fit the service's limits
/// (<see cref="TableRules.ValidateTransaction"/>): one PartitionKey, at most 100 actions and at most 4 MiB each.
/// </summary>
/// <remarks>
/// Why bytes and not only counts: 100 entities of up to 64 KiB each (a block's events, dead-lettered bodies) make a
/// 6 MiB transaction, which the service refuses (413) every time it is retried; a writer that cuts by count alone
/// stalls its chain for good on one document of large events. Transactions are sent one after another, in order:
/// each is atomic on its own, not the whole call, so callers keep every action idempotent (upserts).
/// </remarks>
public static class TableTransactions
{
    /// <summary>
    /// Submits <paramref name="actions"/> in their order, a new transaction whenever the PartitionKey changes or the
    /// next action would pass 100 actions or 4 MiB. Callers that group actions by partition get the fewest requests.
    /// </summary>
    public static async Task SubmitAsync(ITableClient table, IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(actions);
        foreach (var chunk in Split(actions))
        {
            await table.SubmitTransactionAsync(chunk, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The transactions <see cref="SubmitAsync"/> sends, in order.</summary>
    public static IEnumerable<List<TableTransactionAction>> Split(IReadOnlyList<TableTransactionAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var chunk = new List<TableTransactionAction>(Math.Min(actions.Count, TableRules.MaxTransactionActions));
        long bytes = 0;
        for (var i = 0; i < actions.Count; i++)
        {
            var action = actions[i];
            var size = SizeOf(action, i);
            if (chunk.Count > 0 && (chunk.Count == TableRules.MaxTransactionActions || bytes + size > TableRules.MaxTransactionBytes
                || !string.Equals(chunk[0].Entity.PartitionKey, action.Entity.PartitionKey, StringComparison.Ordinal)))
            {
                yield return chunk;
                chunk = new List<TableTransactionAction>(TableRules.MaxTransactionActions);
                bytes = 0;
            }

            chunk.Add(action);
            bytes += size;
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    /// <summary>An action's size as <see cref="TableRules.ValidateTransaction"/> counts it (which also validates it).</summary>
    private static long SizeOf(TableTransactionAction action, int index)
    {
        if (action?.Entity is null)
        {
            throw new TableStoreException(400, "InvalidInput", $"Action {index} has no entity.", index);
        }

        return action.ActionType == TableTransactionActionType.Delete
            ? 4 + (2L * (action.Entity.PartitionKey.Length + action.Entity.RowKey.Length))
            : TableRules.ValidateEntity(action.Entity, index);
    }
}
