using System.Net;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Btmc.Platform.Tables;
using Btmc.Platform.Tables.Azure;
using Xunit;

namespace Btmc.Platform.Tests.Tables.Azure;

/// <summary>The client's requests as sent, and its reading of answers, against a recording fake server.</summary>
public sealed class AzureTableClientTests
{
    private readonly RecordingHandler _handler = new();

    [Fact]
    public async Task SubmitTransactionAsync_101Actions_ThrowsBeforeAnyRequest()
    {
        var table = Table();
        var actions = Enumerable.Range(0, 101)
            .Select(i => new TableTransactionAction(TableTransactionActionType.Add, Entity("p", $"r{i}")))
            .ToList();

        var e = await Assert.ThrowsAsync<TableStoreException>(() => table.SubmitTransactionAsync(actions));

        Assert.Equal(400, e.Status);
        Assert.Empty(_handler.Requests);
    }

    [Fact]
    public async Task SubmitTransactionAsync_MixedPartitionKeys_ThrowsWithIndexBeforeAnyRequest()
    {
        var table = Table();

        var e = await Assert.ThrowsAsync<TableStoreException>(() => table.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.Add, Entity("p", "1")),
            new TableTransactionAction(TableTransactionActionType.UpsertMerge, Entity("p", "2")),
            new TableTransactionAction(TableTransactionActionType.Delete, Entity("q", "3")),
        ]));

        Assert.Equal(400, e.Status);
        Assert.Equal("InvalidInput", e.ErrorCode);
        Assert.Equal(2, e.FailedActionIndex);
        Assert.Empty(_handler.Requests);
    }

    [Fact]
    public async Task SubmitTransactionAsync_ValidActions_PostsMultipartBatch()
    {
        _handler.Respond = _ => new HttpResponseMessage(HttpStatusCode.Accepted)
        {
            Content = new StringContent(
                "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n--changesetresponse_2\r\n" +
                "Content-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\nETag: W/\"x\"\r\n\r\n\r\n--changesetresponse_2--\r\n--batchresponse_1--\r\n"),
        };

        var etags = await Table().SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, Entity("p", "1"))]);

        var request = Assert.Single(_handler.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/devstoreaccount1/$batch", request.Uri.AbsolutePath);
        Assert.StartsWith("multipart/mixed; boundary=batch_", request.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Equal(["W/\"x\""], etags);
    }

    [Fact]
    public async Task UpdateEntityAsync_MergeWithETag_PatchesEntityUrlWithIfMatchAndAnnotatedJson()
    {
        var when = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(1));
        var entity = new TableEntity("p'1", "r é", new Dictionary<string, object>
        {
            ["L"] = 42L, ["D"] = 2.0, ["T"] = when, ["G"] = Guid.Empty, ["B"] = new byte[] { 1, 2, 3 }, ["I"] = 7, ["F"] = false,
        });

        var etag = await Table().UpdateEntityAsync(entity, "W/\"old\"");

        var request = Assert.Single(_handler.Requests);
        Assert.Equal("PATCH", request.Method);
        Assert.Equal("/devstoreaccount1/orders(PartitionKey='p%27%271',RowKey='r%20%C3%A9')", request.Uri.AbsolutePath);
        Assert.Equal("W/\"old\"", request.Headers["If-Match"]);
        Assert.Equal("2019-02-02", request.Headers["x-ms-version"]);
        Assert.Equal(
            "{\"PartitionKey\":\"p'1\",\"RowKey\":\"r é\",\"L\":\"42\",\"L@odata.type\":\"Edm.Int64\",\"D\":2,\"D@odata.type\":\"Edm.Double\"," +
            "\"T\":\"2026-01-02T02:04:05.0000000Z\",\"T@odata.type\":\"Edm.DateTime\"," +
            "\"G\":\"00000000-0000-0000-0000-000000000000\",\"G@odata.type\":\"Edm.Guid\",\"B\":\"AQID\",\"B@odata.type\":\"Edm.Binary\",\"I\":7,\"F\":false}",
            request.Body);
        Assert.StartsWith("W/\"datetime'", etag, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpsertEntityAsync_Replace_PutsWithoutIfMatch()
    {
        await Table().UpsertEntityAsync(Entity("p", "r"), TableUpdateMode.Replace);

        var request = Assert.Single(_handler.Requests);
        Assert.Equal("PUT", request.Method);
        Assert.False(request.Headers.ContainsKey("If-Match"));
    }

    [Fact]
    public async Task AddEntityAsync_ErrorCodeHeader_MapsStatusAndCode()
    {
        _handler.Respond = _ => new HttpResponseMessage(HttpStatusCode.Conflict)
        {
            Headers = { { "x-ms-error-code", "EntityAlreadyExists" } },
            Content = new StringContent("{\"odata.error\":{\"code\":\"EntityAlreadyExists\",\"message\":{\"lang\":\"en-US\",\"value\":\"The specified entity already exists.\\nRequestId:1\"}}}"),
        };

        var e = await Assert.ThrowsAsync<TableStoreException>(() => Table().AddEntityAsync(Entity("p", "r")));

        Assert.Equal(409, e.Status);
        Assert.Equal("EntityAlreadyExists", e.ErrorCode);
        Assert.Contains("The specified entity already exists.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetEntityIfExistsAsync_ODataErrorBodyOnly_MapsCodeFromBody()
    {
        _handler.Respond = _ => new HttpResponseMessage(HttpStatusCode.NotFound)
        {
            Content = new StringContent("{\"odata.error\":{\"code\":\"TableNotFound\",\"message\":{\"value\":\"The table specified does not exist.\"}}}"),
        };

        var e = await Assert.ThrowsAsync<TableStoreException>(() => Table().GetEntityIfExistsAsync("p", "r"));

        Assert.Equal(404, e.Status);
        Assert.Equal("TableNotFound", e.ErrorCode);
    }

    [Fact]
    public async Task AddEntityAsync_ServiceUnavailableThroughout_GivesUpAfterBoundedRetries()
    {
        _handler.Respond = _ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Headers = { { "x-ms-error-code", "ServerBusy" } } };
        var options = Options();
        options.Retry.MaxRetries = 3;
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);

        var e = await Assert.ThrowsAsync<TableStoreException>(() => Table(options).AddEntityAsync(Entity("p", "r")));

        Assert.Equal(503, e.Status);
        Assert.Equal("ServerBusy", e.ErrorCode);
        Assert.Equal(4, _handler.Requests.Count);
    }

    [Fact]
    public async Task QueryAsync_ContinuationHeaders_RoundTripThroughTheToken()
    {
        _handler.Respond = r => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Headers = { { "x-ms-continuation-NextPartitionKey", "1!4!cA--" }, { "x-ms-continuation-NextRowKey", "1!8!cjAwMQ--" } },
            Content = new StringContent("{\"value\":[{\"odata.etag\":\"W/\\\"e\\\"\",\"PartitionKey\":\"p\",\"RowKey\":\"r\",\"Timestamp\":\"2026-01-01T00:00:00.1234567Z\",\"N\":\"9\",\"N@odata.type\":\"Edm.Int64\",\"X\":null}]}",
                Encoding.UTF8, "application/json"),
        };
        var table = Table();

        var first = await table.QueryAsync(new TableQuery("p'q", RowKeyFrom: "a", RowKeyTo: "b", MaxPerPage: 1, Select: ["N"]));
        await table.QueryAsync(new TableQuery("p'q", MaxPerPage: 1, ContinuationToken: first.ContinuationToken));

        var entity = Assert.Single(first.Items);
        Assert.Equal("W/\"e\"", entity.ETag);
        Assert.Equal(9L, entity.Properties["N"]);
        Assert.False(entity.Properties.ContainsKey("X"));
        var query = Uri.UnescapeDataString(_handler.Requests[0].Uri.Query);
        Assert.Contains("$filter=PartitionKey eq 'p''q' and RowKey ge 'a' and RowKey lt 'b'", query, StringComparison.Ordinal);
        Assert.Contains("$top=1", query, StringComparison.Ordinal);
        Assert.Contains("$select=PartitionKey,RowKey,Timestamp,N", query, StringComparison.Ordinal);
        var next = Uri.UnescapeDataString(_handler.Requests[1].Uri.Query);
        Assert.Contains("NextPartitionKey=1!4!cA--", next, StringComparison.Ordinal);
        Assert.Contains("NextRowKey=1!8!cjAwMQ--", next, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateIfNotExistsAsync_TokenCredential_SendsBearerTokenForStorageScope()
    {
        var credential = new FixedTokenCredential();
        var client = new AzureTableServiceClient(new Uri("https://acct.table.core.windows.net/"), credential, Options());

        await client.GetTableClient("orders").CreateIfNotExistsAsync();

        var request = Assert.Single(_handler.Requests);
        Assert.Equal("Bearer token-1", request.Headers["Authorization"]);
        Assert.Equal("https://acct.table.core.windows.net/Tables", request.Uri.AbsoluteUri);
        Assert.Equal([AzureTableServiceClient.StorageScope], credential.Scopes);
    }

    private AzureTableClientOptions Options() => new() { Transport = new HttpClientTransport(new HttpClient(_handler)) };

    private ITableClient Table(AzureTableClientOptions? options = null) =>
        new AzureTableServiceClient("UseDevelopmentStorage=true", options ?? Options()).GetTableClient("orders");

    private static TableEntity Entity(string pk, string rk) => new(pk, rk, new Dictionary<string, object>());

    private sealed class FixedTokenCredential : TokenCredential
    {
        public string[] Scopes { get; private set; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes = requestContext.Scopes;
            return new AccessToken("token-1", DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
