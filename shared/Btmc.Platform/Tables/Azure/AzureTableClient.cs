using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Btmc.Platform.Tables.Azure;

/// <summary>
/// One table over the Table storage REST API (version 2019-02-02, JSON with minimal metadata). Requests are checked
/// with <see cref="TableRules"/> before they are sent, so the service and the embedded store refuse the same things
/// with the same codes; a transaction breaking the 100-action or one-partition rule never reaches the wire (Azurite
/// answers a mixed-PartitionKey batch with a bare 500). Stateless apart from its name; safe to share.
/// </summary>
/// <remarks>
/// The pipeline retries 408, 429, 500, 502, 503, 504 and network failures, also for inserts and batches: when a first
/// attempt was applied but its answer lost, the retry reports 409 EntityAlreadyExists (or the batch's conflict) for a
/// write that did happen. Callers that must tell the two apart read the entity back.
/// </remarks>
internal sealed class AzureTableClient(HttpPipeline pipeline, Uri endpoint, string name) : ITableClient
{
    internal const string ServiceVersion = "2019-02-02";
    private const string JsonAccept = "application/json;odata=minimalmetadata";

    public string Name { get; } = name;

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        using var message = NewMessage(RequestMethod.Post, "Tables");
        message.Request.Headers.Add("Prefer", "return-no-content");
        SetJson(message, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["TableName"] = Name }));
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status is 201 or 204)
        {
            return;
        }

        var error = ErrorOf(response);
        if (!(response.Status == 409 && error.ErrorCode == "TableAlreadyExists"))
        {
            throw error;
        }
    }

    public async Task<TableEntity?> GetEntityIfExistsAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(rowKey);
        TableRules.ValidateKey(partitionKey, "PartitionKey");
        TableRules.ValidateKey(rowKey, "RowKey");
        using var message = NewMessage(RequestMethod.Get, EntityPath(Name, partitionKey, rowKey));
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status == 200)
        {
            using var json = JsonDocument.Parse(response.Content.ToMemory());
            return EntityJson.Deserialize(json.RootElement, HeaderOrNull(response, "ETag"));
        }

        var error = ErrorOf(response);
        return response.Status == 404 && error.ErrorCode == "ResourceNotFound" ? null : throw error;
    }

    public async Task<string> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        ArgumentNullException.ThrowIfNull(entity);
        TableRules.ValidateEntity(entity);
        using var message = NewMessage(RequestMethod.Post, EscapeTableName(Name));
        message.Request.Headers.Add("Prefer", "return-no-content");
        SetJson(message, EntityJson.Serialize(entity));
        return await WriteAsync(message, cancellationToken).ConfigureAwait(false);
    }

    public Task<string> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default) =>
        UpdateOrUpsertAsync(entity, ifMatch: null, mode, cancellationToken);

    public Task<string> UpdateEntityAsync(TableEntity entity, string ifMatch, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(ifMatch);
        return UpdateOrUpsertAsync(entity, ifMatch, mode, cancellationToken);
    }

    public async Task DeleteEntityAsync(string partitionKey, string rowKey, string ifMatch = "*", CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(rowKey);
        ArgumentException.ThrowIfNullOrEmpty(ifMatch);
        TableRules.ValidateKey(partitionKey, "PartitionKey");
        TableRules.ValidateKey(rowKey, "RowKey");
        using var message = NewMessage(RequestMethod.Delete, EntityPath(Name, partitionKey, rowKey));
        message.Request.Headers.Add("If-Match", ifMatch);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status == 204)
        {
            return;
        }

        var error = ErrorOf(response);
        if (!(response.Status == 404 && error.ErrorCode == "ResourceNotFound"))
        {
            throw error;
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

        using var message = NewMessage(RequestMethod.Get, EscapeTableName(Name) + "()");
        var uri = message.Request.Uri;
        var filter = Filter(query);
        if (filter.Length > 0)
        {
            uri.AppendQuery("$filter", filter, true);
        }

        uri.AppendQuery("$top", query.MaxPerPage.ToString(CultureInfo.InvariantCulture), false);
        if (query.Select is { } select)
        {
            uri.AppendQuery("$select", string.Join(',', ["PartitionKey", "RowKey", "Timestamp", .. select]), true);
        }

        if (query.ContinuationToken is not null)
        {
            var (nextPartitionKey, nextRowKey) = DecodeContinuation(query.ContinuationToken);
            uri.AppendQuery("NextPartitionKey", nextPartitionKey, true);
            if (nextRowKey is not null)
            {
                uri.AppendQuery("NextRowKey", nextRowKey, true);
            }
        }

        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw ErrorOf(response);
        }

        using var json = JsonDocument.Parse(response.Content.ToMemory());
        var items = new List<TableEntity>();
        if (json.RootElement.TryGetProperty("value", out var value))
        {
            foreach (var element in value.EnumerateArray())
            {
                items.Add(EntityJson.Deserialize(element, etagHeader: null));
            }
        }

        var token = HeaderOrNull(response, "x-ms-continuation-NextPartitionKey") is { } npk
            ? EncodeContinuation(npk, HeaderOrNull(response, "x-ms-continuation-NextRowKey"))
            : null;
        return new TablePage(items, token);
    }

    public async Task<IReadOnlyList<string>> SubmitTransactionAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default)
    {
        TableRules.ValidateTableName(Name);
        TableRules.ValidateTransaction(actions);
        var batch = "batch_" + Guid.NewGuid().ToString("D");
        var changeset = "changeset_" + Guid.NewGuid().ToString("D");
        using var message = NewMessage(RequestMethod.Post, "$batch");
        message.Request.Headers.SetValue("Content-Type", "multipart/mixed; boundary=" + batch);
        message.Request.Content = RequestContent.Create(TableBatch.BuildBody(endpoint, Name, actions, batch, changeset));
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 202)
        {
            throw ErrorOf(response);
        }

        return TableBatch.ReadResult(TableBatch.ParseResponse(response.Content.ToString()), actions);
    }

    /// <summary>The escaped path of an entity, relative to the endpoint: <c>table(PartitionKey='pk',RowKey='rk')</c>.</summary>
    internal static string EntityPath(string tableName, string partitionKey, string rowKey) =>
        $"{EscapeTableName(tableName)}(PartitionKey='{EscapeKey(partitionKey)}',RowKey='{EscapeKey(rowKey)}')";

    internal static string EscapeTableName(string tableName) => Uri.EscapeDataString(tableName);

    /// <summary>Reads <c>{"odata.error":{"code":..,"message":{"value":..}}}</c>; nulls when the body is not one.</summary>
    internal static (string? Code, string? Message) ReadOdataError(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return (null, null);
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("odata.error", out var error))
            {
                var code = error.TryGetProperty("code", out var c) ? c.GetString() : null;
                string? text = null;
                if (error.TryGetProperty("message", out var m))
                {
                    text = m.ValueKind == JsonValueKind.Object && m.TryGetProperty("value", out var v) ? v.GetString() : m.ToString();
                }

                return (code, text);
            }
        }
        catch (JsonException)
        {
        }

        return (null, null);
    }

    /// <summary>The opaque token of a page: the service's NextPartitionKey and NextRowKey, base64url-encoded.</summary>
    internal static string EncodeContinuation(string nextPartitionKey, string? nextRowKey)
    {
        var text = nextRowKey is null ? nextPartitionKey : nextPartitionKey + "\n" + nextRowKey;
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    internal static (string NextPartitionKey, string? NextRowKey) DecodeContinuation(string token)
    {
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
            var newline = text.IndexOf('\n', StringComparison.Ordinal);
            return newline < 0 ? (text, null) : (text[..newline], text[(newline + 1)..]);
        }
        catch (FormatException e)
        {
            throw new TableStoreException(400, "InvalidInput", $"The continuation token is not one this store issued ({e.Message}).");
        }
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

    private static string EscapeKey(string key) => Uri.EscapeDataString(key.Replace("'", "''", StringComparison.Ordinal));

    private async Task<string> UpdateOrUpsertAsync(TableEntity entity, string? ifMatch, TableUpdateMode mode, CancellationToken cancellationToken)
    {
        TableRules.ValidateTableName(Name);
        ArgumentNullException.ThrowIfNull(entity);
        TableRules.ValidateEntity(entity);
        var method = mode == TableUpdateMode.Merge ? RequestMethod.Patch : RequestMethod.Put;
        using var message = NewMessage(method, EntityPath(Name, entity.PartitionKey, entity.RowKey));
        if (ifMatch is not null)
        {
            message.Request.Headers.Add("If-Match", ifMatch);
        }

        SetJson(message, EntityJson.Serialize(entity));
        return await WriteAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> WriteAsync(HttpMessage message, CancellationToken cancellationToken)
    {
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status is 201 or 204)
        {
            return HeaderOrNull(response, "ETag")
                ?? throw new TableStoreException(502, "InvalidResponse", "The service answered a write without an ETag.");
        }

        throw ErrorOf(response);
    }

    private HttpMessage NewMessage(RequestMethod method, string relativePath)
    {
        var message = pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(endpoint);
        request.Uri.AppendPath("/" + relativePath, escape: false);
        request.Headers.Add("x-ms-version", ServiceVersion);
        request.Headers.Add("DataServiceVersion", "3.0");
        request.Headers.Add("MaxDataServiceVersion", "3.0;NetFx");
        request.Headers.Add("Accept", JsonAccept);
        return message;
    }

    private static void SetJson(HttpMessage message, byte[] body)
    {
        message.Request.Headers.SetValue("Content-Type", "application/json");
        message.Request.Content = RequestContent.Create(body);
    }

    /// <summary>
    /// Sends through the pipeline (retries included). A status is a response, whatever it is; a network failure
    /// that outlasts the retries becomes 503 ServiceUnavailable naming the endpoint.
    /// </summary>
    private async Task<Response> SendAsync(HttpMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new TableStoreException(503, "ServiceUnavailable",
                $"The table service at {endpoint} could not be reached after the configured retries: {e.Message}");
        }

        return message.Response;
    }

    private static string? HeaderOrNull(Response response, string name) =>
        response.Headers.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    private static TableStoreException ErrorOf(Response response)
    {
        var (code, text) = ReadOdataError(response.Content.ToString());
        code = HeaderOrNull(response, "x-ms-error-code") ?? code ?? response.Status.ToString(CultureInfo.InvariantCulture);
        var firstLine = text?.Split('\n', 2)[0];
        return new TableStoreException(response.Status, code,
            $"The table service answered {response.Status} {code}{(firstLine is null ? "." : ": " + firstLine)}");
    }
}
