using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Btmc.Cli;
using Btmc.Functions.Partners;
using Xunit;

namespace Btmc.Functions.Tests.Partners;

public sealed class PartnerAuthenticationTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("not-a-registered-key")]
    public async Task Capture_WithoutARegisteredKey_Returns401AndAcceptsNothing(string? key)
    {
        await using var server = await LocalServer.StartInProcessAsync();
        using var anonymous = new HttpClient { BaseAddress = new Uri(server.BaseUrl + "/") };
        using var content = new ByteArrayContent(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.000003.1")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
        if (key is not null)
        {
            content.Headers.Add(PartnerAuthentication.HeaderName, key);
        }

        using var response = await anonymous.PostAsync("api/epcis/capture", content);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("X-API-Key", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        var chains = await server.GetJsonAsync("api/ledger/chains");
        Assert.Equal(0, chains.GetProperty("pending").GetInt32() + chains.GetProperty("totalEntries").GetInt64());
    }

    [Fact]
    public async Task HashOnlyEndpoints_WithoutAKey_AreOpen()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        using var anonymous = server.ClientAs(null);

        using var health = await anonymous.GetAsync(string.Empty);
        using var chains = await anonymous.GetAsync("api/ledger/chains");
        using var verify = await anonymous.GetAsync("api/ledger/verify");
        using var block = await anonymous.GetAsync("api/ledger/chains/governance/blocks/0");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, chains.StatusCode);
        Assert.Equal(HttpStatusCode.OK, verify.StatusCode);
        Assert.Equal(HttpStatusCode.OK, block.StatusCode);
    }

    [Fact]
    public async Task Capture_WithTheKeyOfASecondPartner_RecordsThatPartnerInStatusEventAndReceipt()
    {
        await using var server = await LocalServer.StartWithPartnersAsync("fab-1");

        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.000003.2")), "fab-1");
        var captureId = body.GetProperty("captureId").GetString()!;
        var capture = await server.WaitSealedAsync(captureId);
        var eventId = Uri.EscapeDataString(body.GetProperty("eventIds")[0].GetString()!);
        var evt = await server.GetJsonAsync("api/epcis/events/" + eventId);
        var receipt = await server.GetJsonAsync("api/ledger/receipts/" + eventId);

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("fab-1", capture.GetProperty("partner").GetString());
        Assert.Equal("fab-1", evt.GetProperty("partner").GetString());
        Assert.Equal("fab-1", receipt.GetProperty("partner").GetString());
    }

    [Theory]
    [InlineData("header")]
    [InlineData("query")]
    public async Task Capture_WithTheFunctionsHostKeyOfAPartner_RecordsThatPartner(string where)
    {
        await using var server = await LocalServer.StartWithPartnersAsync("fab-7");
        using var anonymous = new HttpClient { BaseAddress = new Uri(server.BaseUrl + "/") };
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/epcis/capture" + (where == "query" ? "?code=" + Uri.EscapeDataString(LocalServer.PartnerApiKey("fab-7")) : string.Empty))
        {
            Content = new ByteArrayContent(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.000003.7"))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
        if (where == "header")
        {
            request.Headers.Add(PartnerAuthentication.FunctionsKeyHeader, LocalServer.PartnerApiKey("fab-7"));
        }

        using var response = await anonymous.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var capture = await server.GetJsonAsync($"api/epcis/capture/{body.RootElement.GetProperty("captureId").GetString()}");
        Assert.Equal("fab-7", capture.GetProperty("partner").GetString());
    }

    [Theory]
    [InlineData(true, HttpStatusCode.Accepted)]
    [InlineData(false, HttpStatusCode.Unauthorized)]
    public async Task Capture_WithAnAppServicePrincipal_CountsOnlyWhenTheDeploymentTrustsTheHeader(bool trusted, HttpStatusCode expected)
    {
        var data = LocalServer.NewDataDirectory();
        try
        {
            await File.WriteAllTextAsync(PartnerSetup.RegistryPath(data),
                """{"partners":[{"id":"fab-9","principalIds":["6f1c2a9e-0000-4000-8000-00000000abcd"],"prefixes":["0614141"]}]}""");
            await using var server = await LocalServer.StartInProcessAsync(data, "--Partners:TrustAppServicePrincipal", trusted ? "true" : "false");
            using var anonymous = new HttpClient { BaseAddress = new Uri(server.BaseUrl + "/") };
            using var content = new ByteArrayContent(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.000003.9")));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
            anonymous.DefaultRequestHeaders.Add(PartnerAuthentication.PrincipalIdHeader, "6F1C2A9E-0000-4000-8000-00000000ABCD");

            using var response = await anonymous.PostAsync("api/epcis/capture", content);

            Assert.Equal(expected, response.StatusCode);
            if (trusted)
            {
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var capture = await server.GetJsonAsync($"api/epcis/capture/{body.RootElement.GetProperty("captureId").GetString()}");
                Assert.Equal("fab-9", capture.GetProperty("partner").GetString());
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task FirstStart_RegistersTheLocalPartnerAndTheOperatorWithOwnerOnlyKeys()
    {
        await using var server = await LocalServer.StartInProcessAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.ApiKeyFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.OperatorKeyFile));
        using var asOperator = server.ClientAs("operator");
        using var partners = JsonDocument.Parse(await asOperator.GetStringAsync("api/partners"));
        var local = partners.RootElement.GetProperty("partners").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "local");
        var key = (await File.ReadAllTextAsync(server.ApiKeyFile)).Trim();
        Assert.Equal(Btmc.Governance.PartnerDirectory.HashKey(key), local.GetProperty("apiKeys")[0].GetProperty("sha256").GetString());
        Assert.Equal(["*"], local.GetProperty("prefixes").EnumerateArray().Select(p => p.GetString()));
        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.000003.3")));
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("local", (await server.GetJsonAsync($"api/epcis/capture/{body.GetProperty("captureId").GetString()}")).GetProperty("partner").GetString());
    }

    [Fact]
    public async Task Start_RegistryFileWithoutAKeyHash_ThrowsNamingTheFile()
    {
        var data = LocalServer.NewDataDirectory();
        try
        {
            await File.WriteAllTextAsync(PartnerSetup.RegistryPath(data), "{\"partners\":[{\"id\":\"fab-2\"}]}");

            var ex = await Assert.ThrowsAsync<InvalidDataException>(() => LocalServer.StartInProcessAsync(data));

            Assert.Contains("partners.json", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task CliCapture_WithoutAKey_Exits2SayingWhereTheKeyIs()
    {
        var folder = LocalServer.NewDataDirectory();
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(folder, "a.jsonld"), CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.000033.4")));
            var error = new StringWriter();
            Assert.Null(Environment.GetEnvironmentVariable("BTMC_API_KEY"));

            var exit = await BtmcCli.RunAsync(["capture", folder, "--url", "http://127.0.0.1:9"], TextWriter.Null, error);

            Assert.Equal(2, exit);
            Assert.Contains("partner-local.key", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
