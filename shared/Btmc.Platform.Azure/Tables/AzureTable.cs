using Azure;
using Btmc.Platform.Tables;
using Port = Btmc.Platform.Tables;
using Sdk = Azure.Data.Tables;

namespace Btmc.Platform.Azure.Tables;

/// <summary>
/// One table on Azure.Data.Tables' <see cref="Sdk.TableClient"/>. Every request is checked with <see cref="TableRules"/>
/// before the SDK sees it: the SDK checks no key characters, sizes or transaction limits, and Azurite enforces few of
/// them (it answers a mixed-PartitionKey batch with a bare 500), so without the checks code passing on Azurite could
/// fail in Azure, and the embedded store and the service would refuse different things. The SDK's failures become
/// <see cref="TableStoreException"/>s with the service's status and error code (<see cref="AzureTableErrors"/>).
/// </summary>
/// <remarks>
/// The SDK's pipeline retries 408, 429, 5xx and network failures, also for inserts and transactions: when a first
/// attempt was applied but its answer lost, the retry reports 409 EntityAlreadyExists (or the transaction's conflict)
/// for a write that did happen. Callers that must tell the two apart read the entity back.
/// </remarks>
internal sealed class AzureTable(Sdk.TableClient table, Uri endpoint) : ITableClient
{
    public string Name => table.Name;

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        try
        {
            // The SDK answers 409 TableAlreadyExists itself (null value): an existing table is success.
            await table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (AzureTableErrors.Translate(e, endpoint, cancellationToken) is { } refusal)
        {
            throw refusal;
        }
    }

    public async Task<Port.TableEntity?> GetEntityIfExistsAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(rowKey);
        TableRules.ValidateKey(partitionKey, "PartitionKey");
        TableRules.ValidateKey(rowKey, "RowKey");
        NullableResponse<Sdk.TableEntity> response;
        try
        {
            response = await table.GetEntityIfExistsAsync<Sdk.TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (AzureTableErrors.Translate(e, endpoint, cancellationToken) is { } refusal)
        {
            throw refusal;
        }

        if (response.HasValue)
        {
            return AzureEntities.FromSdk(response.Value!);
        }

        // Why: the SDK reads every 404 as "no entity", also 404 TableNotFound; a missing table is an error here.
        AzureTableErrors.ThrowUnlessEntityMissing(response.GetRawResponse());
        return null;
    }

    public async Task<string> AddEntityAsync(Port.TableEntity entity, CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        ArgumentNullException.ThrowIfNull(entity);
        TableRules.ValidateEntity(entity);
        try
        {
            var response = await table.AddEntityAsync(AzureEntities.ToSdk(entity), cancellationToken).ConfigureAwait(false);
            return AzureTableErrors.ETagOf(response);
        }
        catch (Exception e) when (AzureTableErrors.Translate(e, endpoint, cancellationToken) is { } refusal)
        {
            throw refusal;
        }
    }

    public async Task<string> UpsertEntityAsync(Port.TableEntity entity, Port.TableUpdateMode mode = Port.TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        ArgumentNullException.ThrowIfNull(entity);
        TableRules.ValidateEntity(entity);
        try
        {
            var response = await table.UpsertEntityAsync(AzureEntities.ToSdk(entity), AzureEntities.ToSdk(mode), cancellationToken).ConfigureAwait(false);
            return AzureTableErrors.ETagOf(response);
        }
        catch (Exception e) when (AzureTableErrors.Translate(e, endpoint, cancellationToken) is { } refusal)
        {
            throw refusal;
        }
    }

    public async Task<string> UpdateEntityAsync(Port.TableEntity entity, string ifMatch, Port.TableUpdateMode mode = Port.TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentException.ThrowIfNullOrEmpty(ifMatch);
        TableRules.ValidateEntity(entity);
        try
        {
            var response = await table.UpdateEntityAsync(AzureEntities.ToSdk(entity), new ETag(ifMatch), AzureEntities.ToSdk(mode), cancellationToken).ConfigureAwait(false);
            return AzureTableErrors.ETagOf(response);
        }
        catch (Exception e) when (AzureTableErrors.Translate(e, endpoint, cancellationToken) is { } refusal)
        {
            throw refusal;
        }
    }

    public async Task DeleteEntityAsync(string partitionKey, string rowKey, string ifMatch = "*", CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(rowKey);
        ArgumentException.ThrowIfNullOrEmpty(ifMatch);
        TableRules.ValidateKey(partitionKey, "PartitionKey");
        TableRules.ValidateKey(rowKey, "RowKey");
        Response response;
        try
        {
            response = await table.DeleteEntityAsync(partitionKey, rowKey, new ETag(ifMatch), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (AzureTableErrors.Translate(e, endpoint, cancellationToken) is { } refusal)
        {
            throw refusal;
        }

        // Why: the SDK reads every 404 as "already deleted", also 404 TableNotFound, which is an error here.
        if (response.Status == 404)
        {
            AzureTableErrors.ThrowUnlessEntityMissing(response);
        }
    }

    public async Task<TablePage> QueryAsync(TableQuery query, CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        ArgumentNullException.ThrowIfNull(query);
        if (query.MaxPerPage is < 1 or > TableRules.MaxPageSize)
        {
            throw new TableStoreException(400, "InvalidInput",
                $"MaxPerPage is {query.MaxPerPage}; it must be between 1 and {TableRules.MaxPageSize}.");
        }

        var filter = Filter(query);
        IEnumerable<string>? select = query.Select is { } properties ? ["PartitionKey", "RowKey", "Timestamp", .. properties] : null;
        try
        {
            var pages = table.QueryAsync<Sdk.TableEntity>(filter.Length > 0 ? filter : null, query.MaxPerPage, select, cancellationToken)
                .AsPages(query.ContinuationToken, query.MaxPerPage);
            // Only the first page: the caller asks for the next one with its continuation token.
            await foreach (var page in pages.ConfigureAwait(false))
            {
                var items = new List<Port.TableEntity>(page.Values.Count);
                foreach (var entity in page.Values)
                {
                    items.Add(AzureEntities.FromSdk(entity));
                }

                return new TablePage(items, string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
            }

            return new TablePage([], null);
        }
        catch (Exception e) when (AzureTableErrors.Translate(e, endpoint, cancellationToken) is { } refusal)
        {
            throw refusal;
        }
    }

    public async Task<IReadOnlyList<string>> SubmitTransactionAsync(IReadOnlyList<Port.TableTransactionAction> actions, CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        TableRules.ValidateTransaction(actions);
        var batch = new List<Sdk.TableTransactionAction>(actions.Count);
        foreach (var action in actions)
        {
            batch.Add(AzureEntities.ToSdk(action));
        }

        Response<IReadOnlyList<Response>> response;
        try
        {
            response = await table.SubmitTransactionAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (Sdk.TableTransactionFailedException e)
        {
            // The SDK reads the failed action from the service's message; a one-action batch can only fail at 0.
            var index = e.FailedTransactionActionIndex ?? (actions.Count == 1 ? 0 : null);
            throw AzureTableErrors.Refusal(e, index);
        }
        catch (Exception e) when (AzureTableErrors.Translate(e, endpoint, cancellationToken) is { } refusal)
        {
            throw refusal;
        }

        var parts = response.Value;
        if (parts.Count != actions.Count)
        {
            throw new TableStoreException(502, "InvalidResponse",
                $"The transaction's response holds {parts.Count} responses for {actions.Count} actions.");
        }

        var etags = new string[actions.Count];
        for (var i = 0; i < etags.Length; i++)
        {
            etags[i] = actions[i].ActionType == Port.TableTransactionActionType.Delete ? string.Empty : AzureTableErrors.HeaderOrNull(parts[i], "ETag") ?? string.Empty;
        }

        return etags;
    }

    /// <summary>
    /// The OData filter of a query: <c>PartitionKey eq 'p' and RowKey ge 'a' and RowKey lt 'b'</c>, string literals
    /// with single quotes doubled.
    /// </summary>
    internal static string Filter(TableQuery query)
    {
        var conditions = new List<string>(3);
        if (query.PartitionKey is not null)
        {
            conditions.Add($"PartitionKey eq {Literal(query.PartitionKey)}");
        }

        if (query.RowKeyFrom is not null)
        {
            conditions.Add($"RowKey ge {Literal(query.RowKeyFrom)}");
        }

        if (query.RowKeyTo is not null)
        {
            conditions.Add($"RowKey lt {Literal(query.RowKeyTo)}");
        }

        return string.Join(" and ", conditions);
    }

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
