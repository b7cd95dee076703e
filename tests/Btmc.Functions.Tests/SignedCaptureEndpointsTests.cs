using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Btmc.Cli;
using Btmc.Functions.Partners;
using Btmc.Ledger;
using Btmc.Supply.Capture;
using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests;

/// <summary>Signed captures over real HTTP on loopback (docs/partners.md, "Signed captures").</summary>
public sealed class SignedCaptureEndpointsTests : IDisposable
{
    private const string Signing = "fab-signs";
    private const string MayNotSign = "fab-may-sign";
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly TempDirectory _files = new();

    public void Dispose()
    {
        _key.Dispose();
        _files.Dispose();
    }

    private async Task<LocalServer> StartAsync()
    {
        var server = await LocalServer.StartInProcessAsync();
        await server.AddPartnerAsync(Signing, ["*"], signingKey: EcPublicJwk.FromECDsa(_key), requireSignature: true);
        await server.AddPartnerAsync(MayNotSign, ["*"], signingKey: EcPublicJwk.FromECDsa(_key));
        return server;
    }

    [Fact]
    public async Task CliCapture_SignedByTheRegisteredKey_SealedAndTheReceiptVerifiesWithTheDocument()
    {
        await using var server = await StartAsync();
        var document = Path.Combine(_files.Path, "document.jsonld");
        var body = Body("51", 3);
        await File.WriteAllBytesAsync(document, body);
        var pem = Path.Combine(_files.Path, "partner.pem");
        await File.WriteAllTextAsync(pem, _key.ExportPkcs8PrivateKeyPem());

        var captured = await BtmcCli.RunAsync(["capture", document, "--url", server.BaseUrl, "--api-key", LocalServer.PartnerApiKey(Signing), "--signing-key", pem], TextWriter.Null, TextWriter.Null);

        Assert.Equal(0, captured);
        var status = await server.WaitSealedAsync(CaptureService.CaptureIdOf(Signing, body));
        var signed = status.GetProperty("signed");
        Assert.Equal(Hash32.Compute(body).ToHex(), signed.GetProperty("documentSha256").GetString());
        Assert.Equal(EcPublicJwk.FromECDsa(_key).ComputeThumbprint(), JsonSerializer.Deserialize<EcPublicJwk>(signed.GetProperty("signingKey"))!.ComputeThumbprint());
        var eventId = status.GetProperty("eventIds")[1].GetString()!;
        Assert.Equal(signed.GetProperty("signature").GetString(), (await server.GetJsonAsync("api/epcis/events/" + Uri.EscapeDataString(eventId))).GetProperty("signed").GetProperty("signature").GetString());
        var receipt = Path.Combine(_files.Path, "receipt.json");
        Assert.Equal(0, await BtmcCli.RunAsync(["receipt", eventId, "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--out", receipt], TextWriter.Null, TextWriter.Null));
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, await BtmcCli.RunAsync(["verify-receipt", receipt, "--document", document], output, error));
        Assert.Contains($"holds {eventId}", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"partner {Signing}", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Capture_SignedXml_SignatureIsOverTheXmlBytesAndTheReceiptVerifiesWithThem()
    {
        await using var server = await StartAsync();
        var xml = await File.ReadAllBytesAsync(SharedTestData.PathOf("epcis-hash", "epcisDocWithShippingAndTransportingEvent.xml"));

        var (status, body) = await CaptureAsync(server, Signing, xml, DetachedJws.Sign(_key, xml), "application/xml");

        Assert.True(status == HttpStatusCode.Accepted, body.ToString());
        var sealedStatus = await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        Assert.Equal(Hash32.Compute(xml).ToHex(), sealedStatus.GetProperty("signed").GetProperty("documentSha256").GetString());
        var eventId = body.GetProperty("eventIds")[0].GetString()!;
        var receipt = Path.Combine(_files.Path, "receipt.json");
        var document = Path.Combine(_files.Path, "document.xml");
        await File.WriteAllBytesAsync(document, xml);
        Assert.Equal(0, await BtmcCli.RunAsync(["receipt", eventId, "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--out", receipt], TextWriter.Null, TextWriter.Null));
        var error = new StringWriter();
        Assert.True(await BtmcCli.RunAsync(["verify-receipt", receipt, "--document", document], TextWriter.Null, error) == 0, error.ToString());
    }

    [Fact]
    public async Task Capture_SignatureTampered_Returns401NamingTheHeaderAndAcceptsNothing()
    {
        await using var server = await StartAsync();
        var body = Body("52", 2);
        var jws = DetachedJws.Sign(_key, body);
        var tampered = jws[..^10] + (jws[^10] == 'A' ? 'B' : 'A') + jws[^9..];

        var (status, problem, response) = await CaptureWithResponseAsync(server, Signing, body, tampered);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Btmc-Signature", problem.GetProperty("field").GetString());
        Assert.Contains("does not verify", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("Btmc-Signature", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        await AssertNothingAcceptedAsync(server, Signing, body);
    }

    [Fact]
    public async Task Capture_SignedOverOtherBytes_Returns401()
    {
        await using var server = await StartAsync();
        var body = Body("53", 1);
        var other = Body("54", 1);

        var (status, problem) = await CaptureAsync(server, Signing, body, DetachedJws.Sign(_key, other));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Btmc-Signature", problem.GetProperty("field").GetString());
        await AssertNothingAcceptedAsync(server, Signing, body);
    }

    [Fact]
    public async Task Capture_SignedWithAnotherKey_Returns401NamingTheKid()
    {
        await using var server = await StartAsync();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var body = Body("55", 1);

        var (status, problem) = await CaptureAsync(server, Signing, body, DetachedJws.Sign(other, body));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("kid", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Capture_MissingSignatureWhenRequired_Returns401()
    {
        await using var server = await StartAsync();
        var body = Body("56", 1);

        var (status, problem) = await CaptureAsync(server, Signing, body, signature: null);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Btmc-Signature", problem.GetProperty("field").GetString());
        Assert.Contains("must sign", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertNothingAcceptedAsync(server, Signing, body);
    }

    [Fact]
    public async Task Capture_SignatureFromPartnerWithoutSigningKey_Returns401SayingSo()
    {
        await using var server = await StartAsync();
        var body = Body("57", 1);

        // The default partner registered no signing key: a signature it sends cannot be checked, so it is refused.
        var (status, problem, _) = await server.CaptureAsync(body);
        Assert.Equal(HttpStatusCode.Accepted, status);
        var other = Body("58", 1);
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/epcis/capture") { Content = new ByteArrayContent(other) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
        request.Headers.Add(PartnerAuthentication.HeaderName, (await File.ReadAllTextAsync(server.ApiKeyFile)).Trim());
        request.Headers.Add("Btmc-Signature", DetachedJws.Sign(_key, other));
        using var response = await server.Http.SendAsync(request);
        problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("no registered signing key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Capture_UnsignedFromPartnerNotRequiringSignature_AcceptedWithAnUnsignedReceipt()
    {
        await using var server = await StartAsync();
        var body = Body("59", 1);

        var (status, answer) = await CaptureAsync(server, MayNotSign, body, signature: null);

        Assert.Equal(HttpStatusCode.Accepted, status);
        var captured = await server.WaitSealedAsync(answer.GetProperty("captureId").GetString()!);
        Assert.Equal(JsonValueKind.Null, captured.GetProperty("signed").ValueKind);
        var receipt = await server.GetJsonAsync("api/ledger/receipts/" + Uri.EscapeDataString(answer.GetProperty("eventIds")[0].GetString()!));
        Assert.Equal("btmc-receipt/4", receipt.GetProperty("format").GetString());
        Assert.False(receipt.TryGetProperty("capture", out _));
    }

    [Fact]
    public async Task Capture_SameDocumentSignedAgain_SameCaptureRepeatedWithTheFirstSignature()
    {
        await using var server = await StartAsync();
        var body = Body("60", 2);
        var first = DetachedJws.Sign(_key, body);

        var (status1, answer1) = await CaptureAsync(server, Signing, body, first);
        var (status2, answer2) = await CaptureAsync(server, Signing, body, DetachedJws.Sign(_key, body));

        Assert.Equal(HttpStatusCode.Accepted, status1);
        Assert.Equal(HttpStatusCode.Accepted, status2);
        Assert.True(answer2.GetProperty("repeated").GetBoolean());
        Assert.Equal(answer1.GetProperty("captureId").GetString(), answer2.GetProperty("captureId").GetString());
        var captured = await server.WaitSealedAsync(answer1.GetProperty("captureId").GetString()!);
        Assert.Equal(first, captured.GetProperty("signed").GetProperty("signature").GetString());
    }

    [Theory]
    [InlineData("{\"id\":\"fab-3\",\"prefixes\":[\"*\"],\"requireSignature\":true}", "requireSignature")]
    [InlineData("{\"id\":\"fab-3\",\"prefixes\":[\"*\"],\"signingKey\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}", "signingKey")]
    [InlineData("{\"id\":\"fab-3\",\"prefixes\":[\"*\"],\"signingKey\":{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}", "signingKey")]
    public async Task AddPartner_BadSigningPolicy_400NamingTheMember(string body, string member)
    {
        await using var server = await LocalServer.StartInProcessAsync();
        using var operatorClient = server.ClientAs("operator");

        using var response = await operatorClient.PostAsync("api/partners", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(member, problem.RootElement.GetProperty("field").GetString());
    }

    /// <summary>A document of <paramref name="count"/> events, each naming its own identifier of item <paramref name="item"/>.</summary>
    private static byte[] Body(string item, int count) =>
        CaptureEndpointsTests.Document(Enumerable.Range(0, count).Select(i => CaptureEndpointsTests.Event($"urn:epc:id:sgtin:0614141.1073{item}.{i}")).ToArray());

    private static async Task AssertNothingAcceptedAsync(LocalServer server, string partner, byte[] body)
    {
        using var asOperator = server.ClientAs("operator");
        using var capture = await asOperator.GetAsync("api/epcis/capture/" + CaptureService.CaptureIdOf(partner, body));
        Assert.Equal(HttpStatusCode.NotFound, capture.StatusCode);
        Assert.Equal(0, server.Backend.Pending.Count);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> CaptureAsync(LocalServer server, string partner, byte[] body, string? signature, string mediaType = "application/ld+json")
    {
        var (status, json, response) = await CaptureWithResponseAsync(server, partner, body, signature, mediaType);
        response.Dispose();
        return (status, json);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> CaptureWithResponseAsync(LocalServer server, string partner, byte[] body, string? signature, string mediaType = "application/ld+json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/epcis/capture") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        request.Headers.Add(PartnerAuthentication.HeaderName, LocalServer.PartnerApiKey(partner));
        if (signature is not null)
        {
            request.Headers.Add("Btmc-Signature", signature);
        }

        var response = await server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone(), response);
    }
}
