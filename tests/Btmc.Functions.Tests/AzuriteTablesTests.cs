using System.Net;
using Btmc.Cli;
using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests;

/// <summary>
/// The development mode: the same server with its ledger tables in Azure Table storage (Azurite, through the REST
/// client) and its events on the embedded log. Azurite is started by ./test.sh, which passes its connection string.
/// </summary>
public sealed class AzuriteTablesTests
{
    private const string ConnectionStringVariable = "BTMC_TEST_AZURITE_TABLES";

    [Fact]
    public async Task Capture_WithTablesOnAzurite_SealsQueriesTracesAndVerifies()
    {
        var connectionString = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        Assert.False(string.IsNullOrEmpty(connectionString), $"{ConnectionStringVariable} is not set: run ./test.sh, which starts Azurite and sets it.");
        var prefix = "t" + Guid.NewGuid().ToString("N")[..12];
        await using var server = await LocalServer.StartInProcessAsync(null, "--Tables:ConnectionString", connectionString!, "--Supply:TablePrefix", prefix);
        var example = await File.ReadAllBytesAsync(SharedTestData.PathOf("epcis-examples", "WithErrorDeclaration", "ErrorDeclarationAndCorrectiveEvent.jsonld"));

        var (status, body, _) = await server.CaptureAsync(example);
        Assert.True(status == HttpStatusCode.Accepted, body.ToString());
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        var ids = body.GetProperty("eventIds").EnumerateArray().Select(e => e.GetString()!).ToList();

        var verify = await server.GetJsonAsync("api/ledger/verify");
        Assert.True(verify.GetProperty("isValid").GetBoolean(), verify.ToString());
        var query = await server.GetJsonAsync("api/epcis/events?EQ_eventID=" + Uri.EscapeDataString(ids[1]));
        Assert.Single(query.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList").EnumerateArray());
        var trace = await server.GetJsonAsync("api/trace/" + Uri.EscapeDataString("urn:epc:id:sgtin:4012345.011111.987") + "?direction=downstream");
        Assert.NotEmpty(trace.GetProperty("edges").EnumerateArray());
        var receipt = Path.GetTempFileName();
        try
        {
            Assert.Equal(0, await BtmcCli.RunAsync(["receipt", ids[1], "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--out", receipt], TextWriter.Null, TextWriter.Null));
            var error = new StringWriter();
            Assert.True(await BtmcCli.RunAsync(["verify-receipt", receipt], TextWriter.Null, error) == 0, error.ToString());
        }
        finally
        {
            File.Delete(receipt);
        }
    }
}
