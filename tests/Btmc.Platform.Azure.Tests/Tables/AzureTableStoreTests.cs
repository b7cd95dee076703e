using System.Net;
using Azure.Core;
using Azure.Core.Pipeline;
using Btmc.Platform.Azure.Tables;
using Btmc.Platform.Tables;
using Xunit;
using Sdk = Azure.Data.Tables;

namespace Btmc.Platform.Azure.Tests.Tables;

/// <summary>
/// What the contract suite on Azurite cannot show: our checks run before the SDK sends anything, the retries end, an
/// unreachable store is 503, and Entra ID tokens are asked for Azure Storage's scope. The SDK talks to a handler
/// that answers and counts each request.
/// </summary>
public sealed class AzureTableStoreTests
{
    private readonly AnsweringHandler _handler = new();

    [Fact]
    public async Task SubmitTransactionAsync_101Actions_ThrowsBeforeAnyRequest()
    {
        var actions = Enumerable.Range(0, 101)
            .Select(i => new TableTransactionAction(TableTransactionActionType.Add, Entity("p", i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture))))
            .ToList();

        var e = await Assert.ThrowsAsync<TableStoreException>(() => Table().SubmitTransactionAsync(actions));

        Assert.Equal(400, e.Status);
        Assert.Equal(0, _handler.Requests);
    }

    [Fact]
    public async Task SubmitTransactionAsync_MixedPartitionKeys_ThrowsWithIndexBeforeAnyRequest()
    {
        var e = await Assert.ThrowsAsync<TableStoreException>(() => Table().SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.Add, Entity("p", "1")),
            new TableTransactionAction(TableTransactionActionType.UpsertMerge, Entity("p", "2")),
            new TableTransactionAction(TableTransactionActionType.Delete, Entity("q", "3")),
        ]));

        Assert.Equal(400, e.Status);
        Assert.Equal(2, e.FailedActionIndex);
        Assert.Equal(0, _handler.Requests);
    }

    [Fact]
    public async Task AddEntityAsync_DisallowedKeyCharacter_ThrowsBeforeAnyRequest()
    {
        var e = await Assert.ThrowsAsync<TableStoreException>(() => Table().AddEntityAsync(Entity("p", "a/b")));

        Assert.Equal(400, e.Status);
        Assert.Equal("OutOfRangeInput", e.ErrorCode);
        Assert.Equal(0, _handler.Requests);
    }

    [Fact]
    public async Task AddEntityAsync_ServiceUnavailableThroughout_GivesUpAfterBoundedRetriesWith503()
    {
        _handler.Answer = () => Error(HttpStatusCode.ServiceUnavailable, "ServerBusy");

        var e = await Assert.ThrowsAsync<TableStoreException>(() => Table().AddEntityAsync(Entity("p", "r")));

        Assert.Equal(503, e.Status);
        Assert.Equal("ServerBusy", e.ErrorCode);
        Assert.Equal(AzureTableStore.CreateOptions().Retry.MaxRetries + 1, _handler.Requests);
    }

    [Fact]
    public async Task QueryAsync_StoreUnreachable_Throws503ServiceUnavailableNamingTheEndpoint()
    {
        _handler.Answer = () => throw new HttpRequestException("Connection refused (127.0.0.1:10002)");

        var e = await Assert.ThrowsAsync<TableStoreException>(() => Table().QueryAsync(new TableQuery("p")));

        Assert.Equal(503, e.Status);
        Assert.Equal("ServiceUnavailable", e.ErrorCode);
        Assert.Contains("127.0.0.1:10002", e.Message, StringComparison.Ordinal);
        Assert.Equal(AzureTableStore.CreateOptions().Retry.MaxRetries + 1, _handler.Requests);
    }

    [Fact]
    public async Task GetEntityIfExistsAsync_TableNotFound_Throws404InsteadOfNull()
    {
        _handler.Answer = () => Error(HttpStatusCode.NotFound, "TableNotFound");

        var e = await Assert.ThrowsAsync<TableStoreException>(() => Table().GetEntityIfExistsAsync("p", "r"));

        Assert.Equal(404, e.Status);
        Assert.Equal("TableNotFound", e.ErrorCode);
    }

    [Fact]
    public async Task CreateIfNotExistsAsync_TokenCredential_SendsBearerTokenForStorageScope()
    {
        _handler.Answer = () => new HttpResponseMessage(HttpStatusCode.NoContent);
        var credential = new RecordingCredential();
        var store = new AzureTableStore(new Uri("https://acct.table.core.windows.net/"), credential, Options());

        await store.GetTableClient("orders").CreateIfNotExistsAsync();

        Assert.Equal(["https://storage.azure.com/.default"], credential.Scopes);
        Assert.Equal("Bearer " + RecordingCredential.Token, _handler.LastAuthorization);
    }

    private ITableClient Table() => new AzureTableStore("UseDevelopmentStorage=true", Options()).GetTableClient("orders");

    /// <summary>The store's own retry settings, with the waits cut to a millisecond so the tests stay fast.</summary>
    private Sdk.TableClientOptions Options()
    {
        var options = AzureTableStore.CreateOptions();
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(1);
        options.Transport = new HttpClientTransport(new HttpClient(_handler));
        return options;
    }

    private static TableEntity Entity(string pk, string rk) => new(pk, rk, new Dictionary<string, object>());

    private static HttpResponseMessage Error(HttpStatusCode status, string code)
    {
        var response = new HttpResponseMessage(status)
        {
            Content = new StringContent($"{{\"odata.error\":{{\"code\":\"{code}\",\"message\":{{\"lang\":\"en-US\",\"value\":\"{code}\"}}}}}}"),
        };
        response.Headers.Add("x-ms-error-code", code);
        return response;
    }

    private sealed class AnsweringHandler : HttpMessageHandler
    {
        private int _requests;

        public Func<HttpResponseMessage> Answer { get; set; } = () => throw new InvalidOperationException("No request was expected.");

        public int Requests => Volatile.Read(ref _requests);

        public string? LastAuthorization { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            LastAuthorization = request.Headers.Authorization?.ToString();
            return Task.FromResult(Answer());
        }
    }

    private sealed class RecordingCredential : TokenCredential
    {
        public const string Token = "test-token";

        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes.AddRange(requestContext.Scopes);
            return new AccessToken(Token, DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
