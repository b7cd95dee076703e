using System.Security.Cryptography;
using System.Text;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply.Capture;
using Btmc.Supply.Receipts;
using Btmc.Supply.Storage;
using Xunit;

namespace Btmc.Supply.Tests;

/// <summary>A signed capture from capture to receipt: the signature travels with each event, is kept in the entry row
/// and the capture record, sealed in a format 0x03 leaf, and carried by the receipt, which fails if any part is altered.</summary>
public sealed class SignedCaptureTests : IAsyncLifetime
{
    private readonly ECDsa _partnerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly byte[] _document = SupplyHarness.Document(SupplyHarness.Epcs("31", 3));
    private SupplyHarness? _harness;
    private SignedCapture? _signed;
    private CaptureAccepted? _accepted;
    private CaptureAccepted? _unsigned;

    private SupplyHarness Harness => _harness ?? throw new InvalidOperationException("not initialised");

    private SignedCapture Signed => _signed ?? throw new InvalidOperationException("not initialised");

    private CaptureAccepted Accepted => _accepted ?? throw new InvalidOperationException("not initialised");

    public async Task InitializeAsync()
    {
        _harness = await SupplyHarness.StartAsync();
        _signed = SignatureOf(_document);
        _accepted = await Harness.Backend.Capture.CaptureAsync("partner-a", _document, _signed);

        // An unsigned capture sealed in the same block: its leaves stay format 0x02 beside the 0x03 ones.
        _unsigned = await Harness.CaptureAsync(SupplyHarness.Epcs("32", 2));
        await Harness.Backend.Sealers[0].SealAvailableAsync();
    }

    public async Task DisposeAsync()
    {
        _partnerKey.Dispose();
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    [Fact]
    public async Task CaptureAsync_Signed_EntryRowAndCaptureRecordKeepTheSignature()
    {
        var view = await Harness.Backend.Reader.GetEventAsync(Accepted.EventIds[1]);
        var status = await Harness.Backend.Reader.GetCaptureStatusAsync(Accepted.CaptureId);

        Assert.Equal("sealed", view!.Status);
        Assert.Equal(Signed, view.Signed);
        Assert.Equal(Signed, status!.Signed);
        Assert.Null((await Harness.Backend.Reader.GetEventAsync(_unsigned!.EventIds[0]))!.Signed);
        Assert.Null((await Harness.Backend.Reader.GetCaptureStatusAsync(_unsigned.CaptureId))!.Signed);
    }

    [Fact]
    public async Task CaptureAsync_SameDocumentSignedAgain_SameCaptureAndTheFirstSignatureStays()
    {
        // ECDSA signatures are randomized: signing the same bytes again gives another JWS.
        var again = SignatureOf(_document);
        Assert.NotEqual(Signed.Jws, again.Jws);

        var repeated = await Harness.Backend.Capture.CaptureAsync("partner-a", _document, again);

        Assert.True(repeated.Repeated);
        Assert.Equal(Accepted.CaptureId, repeated.CaptureId);
        Assert.Equal(Signed, (await Harness.Backend.Reader.GetCaptureStatusAsync(Accepted.CaptureId))!.Signed);
        Assert.Equal(ReceiptCapture.From(Signed), (await Harness.Backend.Receipts.GetAsync(Accepted.EventIds[0]))!.Capture);
    }

    [Fact]
    public async Task GetReceipt_SignedCapture_CarriesTheSignatureAndVerifiesWithTheDocument()
    {
        var receipt = (await Harness.Backend.Receipts.GetAsync(Accepted.EventIds[2]))!;

        Assert.Equal(Receipt.CheckpointFormat, receipt.Format);
        Assert.Equal(new ReceiptCapture(Signed.DocumentSha256.ToHex(), Signed.Jws, Signed.SigningKey), receipt.Capture);
        var verified = ReceiptVerifier.Verify(Receipt.FromJson(receipt.ToJson()));
        Assert.True(verified.IsValid, verified.Failure);
        Assert.Null(ReceiptVerifier.VerifyDocument(receipt, _document));
    }

    [Fact]
    public async Task GetReceipt_UnsignedEventInTheSameBlock_NoCaptureAndVerifies()
    {
        var receipt = (await Harness.Backend.Receipts.GetAsync(_unsigned!.EventIds[1]))!;

        Assert.Equal(Receipt.CheckpointFormat, receipt.Format);
        Assert.Null(receipt.Capture);
        Assert.Equal(5, receipt.BlockHeader.LeafCount);
        Assert.True(ReceiptVerifier.Verify(receipt).IsValid);
        Assert.Contains("was not signed", ReceiptVerifier.VerifyDocument(receipt, _document), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_SignatureAltered_FailsInclusion()
    {
        var receipt = (await Harness.Backend.Receipts.GetAsync(Accepted.EventIds[0]))!;
        var jws = receipt.Capture!.Signature;
        var at = jws.Length - 20;
        var altered = jws[..at] + (jws[at] == 'A' ? 'B' : 'A') + jws[(at + 1)..];

        var result = ReceiptVerifier.Verify(receipt with { Capture = receipt.Capture with { Signature = altered } });

        Assert.False(result.IsValid);
        Assert.Contains("root", result.Failure, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Verify_DocumentSha256Altered_FailsInclusion()
    {
        var receipt = (await Harness.Backend.Receipts.GetAsync(Accepted.EventIds[0]))!;

        var result = ReceiptVerifier.Verify(receipt with { Capture = receipt.Capture! with { DocumentSha256 = Hash32.Compute("other"u8).ToHex() } });

        Assert.False(result.IsValid);
        Assert.Contains("root", result.Failure, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Verify_SigningKeyReplaced_FailsNamingTheKey()
    {
        var receipt = (await Harness.Backend.Receipts.GetAsync(Accepted.EventIds[0]))!;
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var result = ReceiptVerifier.Verify(receipt with { Capture = receipt.Capture! with { SigningKey = EcPublicJwk.FromECDsa(other) } });

        Assert.Contains("not the receipt's signing key", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_CaptureDroppedFromTheReceipt_Fails()
    {
        var receipt = (await Harness.Backend.Receipts.GetAsync(Accepted.EventIds[0]))!;

        // A format 4 receipt carries the capture when the leaf says so: without it the 0x02 leaf is not in the tree.
        Assert.Contains("root", ReceiptVerifier.Verify(receipt with { Capture = null }).Failure, StringComparison.OrdinalIgnoreCase);

        // The same receipt without its checkpoint, as format 3 (a block sealed before checkpoints), must carry it.
        var format3 = receipt with { Format = Receipt.SignedCaptureFormat, Checkpoint = null, TreeLeafIndex = null, TreeInclusionProof = null, Cosignatures = null };
        Assert.True(ReceiptVerifier.Verify(format3).IsValid, ReceiptVerifier.Verify(format3).Failure);
        Assert.Contains("carries the capture signature", ReceiptVerifier.Verify(format3 with { Capture = null }).Failure, StringComparison.Ordinal);

        // Posing as an unsigned receipt: the 0x02 leaf is not in the tree.
        var asUnsigned = ReceiptVerifier.Verify(format3 with { Capture = null, Format = Receipt.CurrentFormat });
        Assert.Contains("root", asUnsigned.Failure, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task VerifyDocument_OneByteOfTheDocumentChanged_FailsNamingTheHash()
    {
        var receipt = (await Harness.Backend.Receipts.GetAsync(Accepted.EventIds[0]))!;
        var altered = _document.ToArray();
        altered[^5] = (byte)' ';

        Assert.Contains("not the document that was signed", ReceiptVerifier.VerifyDocument(receipt, altered), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyDocument_SignedDocumentWithoutTheEvent_FailsNamingTheEvent()
    {
        // Another document the partner signed: its hash and signature hold, but the receipt's event is not in it.
        var receipt = (await Harness.Backend.Receipts.GetAsync(Accepted.EventIds[0]))!;
        var other = SupplyHarness.Document(SupplyHarness.Epcs("33", 2));
        var otherSigned = SignatureOf(other);

        var failure = ReceiptVerifier.VerifyDocument(receipt with { Capture = ReceiptCapture.From(otherSigned) }, other);

        Assert.Contains($"do not include {receipt.EventId}", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyDocument_SignatureOfAnotherDocument_FailsTheSignature()
    {
        var receipt = (await Harness.Backend.Receipts.GetAsync(Accepted.EventIds[0]))!;
        var other = SignatureOf(SupplyHarness.Document(SupplyHarness.Epcs("34", 1)));

        var failure = ReceiptVerifier.VerifyDocument(receipt with { Capture = receipt.Capture! with { Signature = other.Jws } }, _document);

        Assert.Contains("does not verify over the document", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditAsync_ChainWithSignedAndUnsignedLeaves_IsValid()
    {
        var audit = await Harness.Backend.Auditor.AuditAsync(Harness.Backend.ChainIds, Harness.Rules);

        Assert.True(audit.IsValid, audit.Chains.FirstOrDefault(c => !c.IsValid)?.Fault?.Reason);
        Assert.Equal(5, audit.Chains.Sum(c => c.Entries));
    }

    [Fact]
    public async Task SealDelivered_SignedEnvelopeFromTheHub_SealedAsFormat3()
    {
        // The Event Hubs path: the same signed event as a version 2 envelope, sealed by a fresh backend.
        await using var hub = await SupplyHarness.StartAsync();
        var evt = EpcisDocumentReader.Read(_document, DateTimeOffset.UtcNow).Events[0];
        var record = new EventRecord(evt.EventId, evt.EventHash, "capture-1", "partner-a", DateTimeOffset.UtcNow, evt.Json, Signed);
        var body = SupplyEventEnvelope.Encode(record);
        Assert.Contains("\"v\":2", Encoding.UTF8.GetString(body), StringComparison.Ordinal);

        var outcome = await hub.Backend.SealDeliveredAsync(0, [new HubDelivery(0, "0", DateTimeOffset.UtcNow, body)]);

        Assert.Equal(0, outcome.DeadLettered);
        var receipt = (await hub.Backend.Receipts.GetAsync(evt.EventId))!;
        Assert.Equal(ReceiptCapture.From(Signed), receipt.Capture);
        Assert.True(ReceiptVerifier.Verify(receipt).IsValid);
    }

    [Fact]
    public void EventRecord_Signed_RoundTripsAsVersion2AndUnsignedStaysVersion1()
    {
        var json = "{\"type\":\"ObjectEvent\"}"u8.ToArray();
        var unsigned = new EventRecord("id", Hash32.Compute(json), "capture", "partner", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), json);
        var signed = unsigned with { Signed = Signed };

        var decoded = EventRecord.Decode(signed.Encode());

        Assert.Equal(1, unsigned.Encode()[0]);
        Assert.Equal(2, signed.Encode()[0]);
        Assert.Equal(Signed, decoded.Signed);
        Assert.Equal(json, decoded.Json.ToArray());
        Assert.Null(EventRecord.Decode(unsigned.Encode()).Signed);
    }

    [Theory]
    [InlineData("\"v\":2", "\"v\":1", "carries no capture signature")]
    [InlineData("\"signature\":\"", "\"signature\":\"x", "not a detached ES256 JWS")]
    [InlineData("\"documentSha256\":\"", "\"documentSha256\":\"zz", "not 64 hex digits")]
    [InlineData("\"signingKey\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"", "\"signingKey\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"A", "not a valid JWK")]
    public void Decode_DamagedSignedEnvelope_RefusedWithTheReason(string find, string replace, string reason)
    {
        var evt = EpcisDocumentReader.Read(_document, DateTimeOffset.UtcNow).Events[0];
        var body = Encoding.UTF8.GetString(SupplyEventEnvelope.Encode(new EventRecord(evt.EventId, evt.EventHash, "c", "p", DateTimeOffset.UtcNow, evt.Json, Signed)));
        Assert.Contains(find, body, StringComparison.Ordinal);

        var ex = Assert.Throws<FormatException>(() => SupplyEventEnvelope.Decode(Encoding.UTF8.GetBytes(body.Replace(find, replace, StringComparison.Ordinal))));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_SignedEnvelopeNamingAnotherKey_Refused()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var evt = EpcisDocumentReader.Read(_document, DateTimeOffset.UtcNow).Events[0];
        var body = SupplyEventEnvelope.Encode(new EventRecord(evt.EventId, evt.EventHash, "c", "p", DateTimeOffset.UtcNow, evt.Json, Signed with { SigningKey = EcPublicJwk.FromECDsa(other) }));

        var ex = Assert.Throws<FormatException>(() => SupplyEventEnvelope.Decode(body));
        Assert.Contains("names another key", ex.Message, StringComparison.Ordinal);
    }

    private SignedCapture SignatureOf(byte[] document) =>
        new(Hash32.Compute(document), DetachedJws.Sign(_partnerKey, document), EcPublicJwk.FromECDsa(_partnerKey));
}
