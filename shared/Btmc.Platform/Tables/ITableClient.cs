namespace Btmc.Platform.Tables;

/// <summary>
/// One table, shaped like Azure.Data.Tables' TableClient so that the SQLite adapter, the REST adapter and the SDK
/// are interchangeable. Every method is safe to call concurrently.
/// </summary>
public interface ITableClient
{
    string Name { get; }

    /// <summary>Creates the table; an existing table is success.</summary>
    Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default);

    /// <summary>The entity, or null when it does not exist.</summary>
    Task<TableEntity?> GetEntityIfExistsAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default);

    /// <summary>Inserts; 409 EntityAlreadyExists when the keys are taken. Returns the new ETag.</summary>
    Task<string> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default);

    /// <summary>Inserts or updates, unconditionally. Returns the new ETag.</summary>
    Task<string> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default);

    /// <summary>Updates an existing entity when its ETag matches <paramref name="ifMatch"/> ("*" for any):
    /// 404 when missing, 412 when the ETag differs. Returns the new ETag.</summary>
    Task<string> UpdateEntityAsync(TableEntity entity, string ifMatch, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default);

    /// <summary>Deletes when the ETag matches; a missing entity is success (as in the SDK); 412 on ETag mismatch.</summary>
    Task DeleteEntityAsync(string partitionKey, string rowKey, string ifMatch = "*", CancellationToken cancellationToken = default);

    /// <summary>One page of entities in (PartitionKey, RowKey) order.</summary>
    Task<TablePage> QueryAsync(TableQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies up to 100 operations on one PartitionKey atomically: all or none. Returns the new ETags in action
    /// order (empty string for deletes). Breaking the limits is 400 before anything is sent.
    /// </summary>
    Task<IReadOnlyList<string>> SubmitTransactionAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default);
}

/// <summary>The storage account: hands out one client per table (TableServiceClient.GetTableClient).</summary>
public interface ITableServiceClient
{
    ITableClient GetTableClient(string tableName);
}
