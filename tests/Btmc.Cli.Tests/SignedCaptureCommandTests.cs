using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Btmc.Governance;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Platform.EventLog;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;
using Btmc.Supply;
using Btmc.Supply.Receipts;
using Btmc.Testing;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Btmc.Cli.Tests;

/// <summary><c>btmc capture --signing-key</c> and <c>btmc verify-receipt --document</c>.</summary>
public sealed class SignedCaptureCommandTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("btmc-cli-signed-").FullName;
    private readonly ECDsa _partnerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private string _documentFile = string.Empty;
    private string _signedReceiptFile = string.Empty;
    private string _unsignedReceiptFile = string.Empty;

    public async Task InitializeAsync()
    {
        // A real ledger in a temporary data folder, one signed and one unsigned capture sealed in it.
        using var tables = new SqliteTableServiceClient(Path.Combine(_directory, "tables.db"));
        await using var log = new FileEventLog(Path.Combine(_directory, "log"), 4);
        using var signer = LocalKeyFileSigner.OpenOrCreate(Path.Combine(_directory, "keys", "producer.pem"));
        var governance = await GovernanceLedger.StartAsync(tables, string.Empty, new GenesisSettings("cli-test", SlotClock.MinSlotMilliseconds, [], [new GenesisProducer("cli-test", "producer.pem", signer)]));
        var backend = new SupplyBackend(new SupplyOptions(), tables, log, governance.Scheduler);
        await backend.StartAsync();
        var document = Document("7", 4);
        _documentFile = Path.Combine(_directory, "document.jsonld");
        await File.WriteAllBytesAsync(_documentFile, document);
        var signed = new SignedCapture(Hash32.Compute(document), DetachedJws.Sign(_partnerKey, document), EcPublicJwk.FromECDsa(_partnerKey));
        var accepted = await backend.Capture.CaptureAsync("fab-01", document, signed);
        var unsigned = await backend.Capture.CaptureAsync("fab-01", Document("8", 1));
        foreach (var sealer in backend.Sealers)
        {
            await sealer.SealAvailableAsync();
        }

        _signedReceiptFile = Path.Combine(_directory, "signed.json");
        await File.WriteAllTextAsync(_signedReceiptFile, (await backend.Receipts.GetAsync(accepted.EventIds[2]))!.ToJson());
        _unsignedReceiptFile = Path.Combine(_directory, "unsigned.json");
        await File.WriteAllTextAsync(_unsignedReceiptFile, (await backend.Receipts.GetAsync(unsigned.EventIds[0]))!.ToJson());
    }

    public Task DisposeAsync()
    {
        _partnerKey.Dispose();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task VerifyReceipt_SignedCaptureWithItsDocument_Exits0AndSaysWhatWasProven()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        Assert.Equal(0, await BtmcCli.RunAsync(["verify-receipt", _signedReceiptFile, "--document", _documentFile], output, error));
        var receipt = Receipt.FromJson(await File.ReadAllTextAsync(_signedReceiptFile));
        Assert.Equal(Receipt.CheckpointFormat, receipt.Format);
        Assert.NotNull(receipt.Capture);
        Assert.Contains($"holds {receipt.EventId}", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"verifies with key {EcPublicJwk.FromECDsa(_partnerKey).ComputeThumbprint()}", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("partner fab-01", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyReceipt_SignedCaptureWithoutDocument_Exits0()
    {
        Assert.Equal(0, await BtmcCli.RunAsync(["verify-receipt", _signedReceiptFile], TextWriter.Null, TextWriter.Null));
    }

    [Fact]
    public async Task VerifyReceipt_DocumentWithOneByteChanged_Exits1NamingTheHash()
    {
        var tampered = Path.Combine(_directory, "tampered.jsonld");
        var bytes = await File.ReadAllBytesAsync(_documentFile);
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(tampered, bytes);
        var error = new StringWriter();

        Assert.Equal(1, await BtmcCli.RunAsync(["verify-receipt", _signedReceiptFile, "--document", tampered], TextWriter.Null, error));
        Assert.StartsWith("INVALID: ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("not the document that was signed", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyReceipt_UnsignedCaptureWithADocument_Exits1()
    {
        var error = new StringWriter();

        Assert.Equal(1, await BtmcCli.RunAsync(["verify-receipt", _unsignedReceiptFile, "--document", _documentFile], TextWriter.Null, error));
        Assert.Contains("was not signed", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyReceipt_SignatureAlteredInTheReceipt_Exits1()
    {
        var receipt = Receipt.FromJson(await File.ReadAllTextAsync(_signedReceiptFile));
        var jws = receipt.Capture!.Signature;
        var altered = Path.Combine(_directory, "altered.json");
        await File.WriteAllTextAsync(altered, (receipt with { Capture = receipt.Capture with { Signature = jws[..^10] + (jws[^10] == 'A' ? 'B' : 'A') + jws[^9..] } }).ToJson());
        var error = new StringWriter();

        Assert.Equal(1, await BtmcCli.RunAsync(["verify-receipt", altered, "--document", _documentFile], TextWriter.Null, error));
        Assert.StartsWith("INVALID: ", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pkcs8")]
    [InlineData("sec1")]
    public async Task Capture_WithSigningKey_SendsAJwsOverTheExactBodyThatVerifies(string form)
    {
        var pem = Path.Combine(_directory, $"partner-{form}.pem");
        await File.WriteAllTextAsync(pem, form == "pkcs8" ? _partnerKey.ExportPkcs8PrivateKeyPem() : _partnerKey.ExportECPrivateKeyPem());
        var received = new ConcurrentBag<(byte[] Body, string? Signature)>();
        var (app, address) = await LoopbackHost.StartAsync(() => async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            received.Add((body.ToArray(), context.Request.Headers["Btmc-Signature"].SingleOrDefault()));
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            await context.Response.WriteAsJsonAsync(new { captureId = "c-1", eventIds = new[] { "e-1" } });
        });
        await using var _ = app;
        var output = new StringWriter();

        var exit = await BtmcCli.RunAsync(["capture", _documentFile, "--url", address.ToString(), "--api-key", "k", "--signing-key", pem], output, TextWriter.Null);

        Assert.Equal(0, exit);
        var (sent, signature) = Assert.Single(received);
        Assert.Equal(await File.ReadAllBytesAsync(_documentFile), sent);
        Assert.True(DetachedJws.Verify(signature, sent, EcPublicJwk.FromECDsa(_partnerKey), out var failure), failure);
    }

    [Fact]
    public async Task Capture_SigningKeyIsAPublicKey_Exits2NamingTheOption()
    {
        var pem = Path.Combine(_directory, "public.pem");
        await File.WriteAllTextAsync(pem, _partnerKey.ExportSubjectPublicKeyInfoPem());
        var error = new StringWriter();

        Assert.Equal(2, await BtmcCli.RunAsync(["capture", _documentFile, "--url", "http://127.0.0.1:9", "--api-key", "k", "--signing-key", pem], TextWriter.Null, error));
        Assert.Contains("--signing-key", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Capture_SigningKeyOnAnotherCurve_Exits2()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var pem = Path.Combine(_directory, "p384.pem");
        await File.WriteAllTextAsync(pem, p384.ExportPkcs8PrivateKeyPem());
        var error = new StringWriter();

        Assert.Equal(2, await BtmcCli.RunAsync(["capture", _documentFile, "--url", "http://127.0.0.1:9", "--api-key", "k", "--signing-key", pem], TextWriter.Null, error));
        Assert.Contains("P-256", error.ToString(), StringComparison.Ordinal);
    }

    private static byte[] Document(string prefix, int count) => Encoding.UTF8.GetBytes(
        "{\"@context\":[],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2026-11-22T10:00:00Z\",\"epcisBody\":{\"eventList\":[" +
        string.Join(",", Enumerable.Range(0, count).Select(i => $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-11-22T10:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"ADD\",\"epcList\":[\"urn:epc:id:sgtin:0614141.00000{prefix}.{i}\"]}}")) +
        "]}}");
}
