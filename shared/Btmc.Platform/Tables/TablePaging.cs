using System.Runtime.CompilerServices;

namespace Btmc.Platform.Tables;

/// <summary>
/// Reading a query to its end: every page, following each page's continuation token. The one place that loop is
/// written; callers stop early by leaving the <c>await foreach</c>, and nothing past the page they stopped in is read.
/// </summary>
public static class TablePaging
{
    /// <summary>The rows <paramref name="query"/> matches, in (PartitionKey, RowKey) order, a page at a time.</summary>
    public static async IAsyncEnumerable<TableEntity> QueryAllAsync(this ITableClient table, TableQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var continuation = query.ContinuationToken;
        do
        {
            var page = await table.QueryAsync(query with { ContinuationToken = continuation }, cancellationToken).ConfigureAwait(false);
            foreach (var row in page.Items)
            {
                yield return row;
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
    }

    /// <summary>Every row <paramref name="query"/> matches, read into a list (for queries known to be small: one partition's rows).</summary>
    public static async Task<List<TableEntity>> QueryListAsync(this ITableClient table, TableQuery query, CancellationToken cancellationToken = default)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAllAsync(query, cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
        }

        return rows;
    }
}
