using System.Globalization;
using System.Net;
using Azure.Core;
using Azure.Core.Pipeline;
using Btmc.Platform.Tables.Azure;
using Xunit;

namespace Btmc.Platform.Tests.Tables.Azure;

public sealed class SharedKeyLitePolicyTests
{
    private const string DocumentedDate = "Sun, 11 Oct 2009 19:52:39 GMT";

    [Fact]
    public void StringToSign_CreateTableExampleOfTheDocs_IsDateThenCanonicalizedResource()
    {
        // "Authorize with Shared Key", Shared Key Lite for the Table service: the example for Create Table.
        var stringToSign = SharedKeyLitePolicy.StringToSign(
            DocumentedDate, "testaccount1", new Uri("https://testaccount1.table.core.windows.net/Tables"));

        Assert.Equal("Sun, 11 Oct 2009 19:52:39 GMT\n/testaccount1/Tables", stringToSign);
    }

    [Fact]
    public void Sign_DocumentedStringToSign_MatchesIndependentHmac()
    {
        // Pinned with python3: base64(hmac.new(b64decode(key), s.encode(), sha256).digest()), key = Azurite's published key.
        var policy = new SharedKeyLitePolicy("testaccount1", TableConnectionString.DevelopmentAccountKey);

        var signature = policy.Sign("Sun, 11 Oct 2009 19:52:39 GMT\n/testaccount1/Tables");

        Assert.Equal("J0rgyDtNy3BXUcIppqbP9j2HX0i+JZ3q2oF6/P8yocE=", signature);
    }

    [Fact]
    public void StringToSign_AzuritePathStyle_RepeatsTheAccount()
    {
        var stringToSign = SharedKeyLitePolicy.StringToSign(
            DocumentedDate, "devstoreaccount1", new Uri("http://127.0.0.1:10002/devstoreaccount1/Tables"));
        var policy = new SharedKeyLitePolicy("devstoreaccount1", TableConnectionString.DevelopmentAccountKey);

        Assert.Equal("Sun, 11 Oct 2009 19:52:39 GMT\n/devstoreaccount1/devstoreaccount1/Tables", stringToSign);
        Assert.Equal("ErXwXhFUdsOaklxX2/UTRDcWl4T591pmLcUzbBU+SRI=", policy.Sign(stringToSign));
    }

    [Fact]
    public void StringToSign_QueryParameters_KeepsOnlyComp()
    {
        var plain = SharedKeyLitePolicy.StringToSign(DocumentedDate, "acct",
            new Uri("https://acct.table.core.windows.net/mytable()?$filter=PartitionKey%20eq%20'p'&$top=5"));
        var comp = SharedKeyLitePolicy.StringToSign(DocumentedDate, "acct",
            new Uri("https://acct.table.core.windows.net/mytable?timeout=5&comp=acl"));

        Assert.Equal(DocumentedDate + "\n/acct/mytable()", plain);
        Assert.Equal(DocumentedDate + "\n/acct/mytable?comp=acl", comp);
    }

    [Fact]
    public async Task SendAsync_RetriedRequest_SignsEachAttemptWithItsOwnDate()
    {
        var handler = new RecordingHandler();
        handler.Respond = r => handler.Requests.Count == 1
            ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
            : new HttpResponseMessage(HttpStatusCode.NoContent);
        var options = new AzureTableClientOptions { Transport = new HttpClientTransport(new HttpClient(handler)) };
        options.Retry.Mode = RetryMode.Fixed;
        options.Retry.Delay = TimeSpan.FromSeconds(1.5);
        var client = new AzureTableServiceClient(
            $"AccountName=devstoreaccount1;AccountKey={TableConnectionString.DevelopmentAccountKey};TableEndpoint=http://127.0.0.1:10002/devstoreaccount1", options);

        await client.GetTableClient("orders").CreateIfNotExistsAsync();

        Assert.Equal(2, handler.Requests.Count);
        var policy = new SharedKeyLitePolicy("devstoreaccount1", TableConnectionString.DevelopmentAccountKey);
        var dates = handler.Requests.Select(r => r.Headers["x-ms-date"]).ToList();
        Assert.NotEqual(dates[0], dates[1]);
        foreach (var request in handler.Requests)
        {
            var date = request.Headers["x-ms-date"];
            Assert.True(DateTimeOffset.TryParseExact(date, "r", CultureInfo.InvariantCulture, DateTimeStyles.None, out _));
            var expected = policy.Sign(date + "\n/devstoreaccount1/devstoreaccount1/Tables");
            Assert.Equal("SharedKeyLite devstoreaccount1:" + expected, request.Headers["Authorization"]);
        }
    }
}
