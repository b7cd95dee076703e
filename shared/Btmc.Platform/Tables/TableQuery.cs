namespace Btmc.Platform.Tables;

/// <summary>
/// A query the table store can answer efficiently on every adapter: an optional PartitionKey equality, an optional
/// RowKey range [<see cref="RowKeyFrom"/>, <see cref="RowKeyTo"/>), results in (PartitionKey, RowKey) order, one page
/// at a time. <see cref="ContinuationToken"/> is the opaque token from the previous page; null starts at the beginning.
/// </summary>
public sealed record TableQuery(
    string? PartitionKey = null,
    string? RowKeyFrom = null,
    string? RowKeyTo = null,
    int MaxPerPage = 1000,
    string? ContinuationToken = null,
    IReadOnlyList<string>? Select = null);

/// <summary>One page of query results; <see cref="ContinuationToken"/> is null on the last page.</summary>
public sealed record TablePage(IReadOnlyList<TableEntity> Items, string? ContinuationToken);
