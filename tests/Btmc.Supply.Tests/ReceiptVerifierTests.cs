using System.Security.Cryptography;
using System.Text.Json;
using Btmc.Ledger;
using Btmc.Supply.Receipts;
using Xunit;

namespace Btmc.Supply.Tests;

public sealed class ReceiptVerifierTests : IAsyncLifetime
{
    private SupplyHarness? _harness;
    private Receipt? _receipt;

    private Receipt Valid => _receipt ?? throw new InvalidOperationException("not initialised");

    public async Task InitializeAsync()
    {
        _harness = await SupplyHarness.StartAsync();
        var capture = await _harness.CaptureAsync(SupplyHarness.Epcs("9", 7));
        await _harness.Backend.Sealers[0].SealAvailableAsync();
        _receipt = await _harness.Backend.Receipts.GetAsync(capture.EventIds[5]);
    }

    public async Task DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    [Fact]
    public void Verify_ReceiptFromTheLedger_IsValid()
    {
        var result = ReceiptVerifier.Verify(Valid);

        Assert.True(result.IsValid, result.Failure);
        Assert.Equal(Valid.BlockHeader.KeyId, result.KeyThumbprint);
        Assert.Equal(5, Valid.LeafIndex);
        Assert.Equal(7, Valid.BlockHeader.LeafCount);
    }

    [Fact]
    public void Verify_AfterJsonRoundTrip_IsValid()
    {
        Assert.True(ReceiptVerifier.Verify(Receipt.FromJson(Valid.ToJson())).IsValid);
    }

    [Fact]
    public void Verify_PinnedToTheProducerKey_IsValid()
    {
        Assert.True(ReceiptVerifier.Verify(Valid, Valid.ProducerKey).IsValid);
    }

    [Fact]
    public void Verify_PinnedToAnotherKey_FailsNamingBothKeys()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var result = ReceiptVerifier.Verify(Valid, EcPublicJwk.FromECDsa(other));

        Assert.Contains("not by the trusted key", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_OtherEventHash_FailsInclusion()
    {
        var result = ReceiptVerifier.Verify(Valid with { EventHash = Hash32.Compute([1, 2, 3]).ToHex(), Event = null });

        Assert.False(result.IsValid);
        Assert.Contains("root", result.Failure, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Verify_OtherLeafIndex_Fails()
    {
        Assert.False(ReceiptVerifier.Verify(Valid with { LeafIndex = 4 }).IsValid);
    }

    [Fact]
    public void Verify_FlippedProofElement_Fails()
    {
        var proof = Valid.InclusionProof.ToList();
        proof[0] = (proof[0][0] == '0' ? "1" : "0") + proof[0][1..];

        Assert.False(ReceiptVerifier.Verify(Valid with { InclusionProof = proof }).IsValid);
    }

    [Fact]
    public void Verify_FlippedSignatureByte_FailsOnTheSignature()
    {
        var signature = Convert.FromBase64String(Valid.Signature.Value);
        signature[10] ^= 0x40;

        var result = ReceiptVerifier.Verify(Valid with { Signature = Valid.Signature with { Value = Convert.ToBase64String(signature) } });

        Assert.Equal("the producer signature does not verify over the block hash", result.Failure);
    }

    [Fact]
    public void Verify_ReadableHeaderFieldChanged_Fails()
    {
        var result = ReceiptVerifier.Verify(Valid with { BlockHeader = Valid.BlockHeader with { LeafCount = 8 } });

        Assert.Equal("the readable block header fields do not match the encoded header", result.Failure);
    }

    [Fact]
    public void Verify_EncodedHeaderChangedConsistently_FailsOnTheBlockHash()
    {
        var header = BlockHeader.Decode(Convert.FromBase64String(Valid.BlockHeader.Encoded)) with { ProducerId = "mallory" };

        var result = ReceiptVerifier.Verify(Valid with { BlockHeader = ReceiptHeader.From(header) });

        Assert.StartsWith("block hash mismatch", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_SwappedProducerKey_FailsOnTheKeyBinding()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var result = ReceiptVerifier.Verify(Valid with { ProducerKey = EcPublicJwk.FromECDsa(other) });

        Assert.Contains("is not the key the header names", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_EditedEvent_FailsOnTheEventHash()
    {
        var edited = Valid.Event!.Value.GetRawText().Replace("ADD", "DELETE", StringComparison.Ordinal);

        var result = ReceiptVerifier.Verify(Valid with { Event = JsonDocument.Parse(edited).RootElement.Clone() });

        Assert.Contains("is not the sealed event hash", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_UnknownFormat_Fails()
    {
        Assert.StartsWith("unknown receipt format", ReceiptVerifier.Verify(Valid with { Format = "btmc-receipt/9" }).Failure, StringComparison.Ordinal);
    }
}
