using Btmc.Platform.Tables;

namespace Btmc.Testing;

/// <summary>
/// A table that hands every call to a real one (SQLite or Azurite): the base of the tests' fault and interception
/// wrappers, which override only the calls they change, so a test fails or delays exactly one operation.
/// </summary>
public abstract class DelegatingTableClient(ITableClient inner) : ITableClient
{
    public string Name => inner.Name;

    public virtual Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) => inner.CreateIfNotExistsAsync(cancellationToken);

    public virtual Task<TableEntity?> GetEntityIfExistsAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default) =>
        inner.GetEntityIfExistsAsync(partitionKey, rowKey, cancellationToken);

    public virtual Task<string> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default) => inner.AddEntityAsync(entity, cancellationToken);

    public virtual Task<string> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default) =>
        inner.UpsertEntityAsync(entity, mode, cancellationToken);

    public virtual Task<string> UpdateEntityAsync(TableEntity entity, string ifMatch, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default) =>
        inner.UpdateEntityAsync(entity, ifMatch, mode, cancellationToken);

    public virtual Task DeleteEntityAsync(string partitionKey, string rowKey, string ifMatch = "*", CancellationToken cancellationToken = default) =>
        inner.DeleteEntityAsync(partitionKey, rowKey, ifMatch, cancellationToken);

    public virtual Task<TablePage> QueryAsync(TableQuery query, CancellationToken cancellationToken = default) => inner.QueryAsync(query, cancellationToken);

    public virtual Task<IReadOnlyList<string>> SubmitTransactionAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default) =>
        inner.SubmitTransactionAsync(actions, cancellationToken);
}
