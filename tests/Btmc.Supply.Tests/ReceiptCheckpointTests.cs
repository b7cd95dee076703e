using Btmc.Chains;
using Btmc.Ledger;
using Btmc.Ledger.Transparency;
using Btmc.Supply.Receipts;
using Org.BouncyCastle.Crypto.Parameters;
using Xunit;

namespace Btmc.Supply.Tests;

/// <summary>Receipts of blocks with checkpoints (format 4): the event in the chain-wide tree, and each registered
/// witness's first cosigned checkpoint covering it, with a consistency proof; all checked offline.</summary>
public sealed class ReceiptCheckpointTests : IAsyncLifetime
{
    private static readonly Ed25519PrivateKeyParameters WitnessKey = new(Enumerable.Repeat((byte)3, 32).ToArray());
    private static readonly Cosigner Witness = Cosigner.OfEd25519("witness.test/w1", WitnessKey);
    private static readonly Cosigner Other = Cosigner.OfEd25519("witness.test/w2", new Ed25519PrivateKeyParameters(Enumerable.Repeat((byte)4, 32).ToArray()));

    private SupplyHarness? _harness;
    private Receipt? _first;
    private Receipt? _second;

    private SupplyHarness Harness => _harness ?? throw new InvalidOperationException("not initialised");

    public async Task InitializeAsync()
    {
        _harness = await SupplyHarness.StartAsync();
        var first = await _harness.CaptureAsync(SupplyHarness.Epcs("7", 5));
        await _harness.Backend.Sealers[0].SealAvailableAsync();
        var second = await _harness.CaptureAsync(SupplyHarness.Epcs("8", 3));
        await _harness.Backend.Sealers[0].SealAvailableAsync();

        // The witness cosigned the second block's checkpoint only: the first block's receipt proves its way there.
        _harness.Backend.Receipts.Witnesses = () => [Witness, Other];
        var chainId = _harness.Options.ChainId(0);
        var head = (await _harness.Backend.Reader.Chain.FindHeadAsync(chainId))!;
        var block = (await _harness.Backend.Reader.Chain.GetBlockAsync(chainId, head.Height))!;
        var note = SignedNote.Parse(block.Checkpoint!);
        var cosigned = note.WithSignature(Witness.SignEd25519(WitnessKey, note.Text, DateTimeOffset.UtcNow));
        await _harness.Backend.Store.Cosignatures.RecordAsync(new CosignedCheckpoint(chainId, Witness.Name, Witness.KeyId, block.TotalEntries!.Value, DateTimeOffset.UtcNow, cosigned.Format()));
        _first = await _harness.Backend.Receipts.GetAsync(first.EventIds[2]);
        _second = await _harness.Backend.Receipts.GetAsync(second.EventIds[1]);
    }

    public async Task DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    [Fact]
    public void GetReceipt_EventOfAnEarlierBlock_CarriesTheTreeProofAndTheCoveringCosignature()
    {
        var receipt = _first!;

        Assert.Equal(Receipt.CheckpointFormat, receipt.Format);
        Assert.Equal(2, receipt.TreeLeafIndex);
        var cosignature = Assert.Single(receipt.Cosignatures!);
        Assert.Equal((Witness.Name, $"{Witness.KeyId:x8}"), (cosignature.Witness, cosignature.KeyId));
        Assert.Equal(8, Checkpoint.Parse(SignedNote.Parse(cosignature.Note).Text).Size);
        Assert.NotEmpty(cosignature.ConsistencyProof);

        var result = ReceiptVerifier.Verify(Receipt.FromJson(receipt.ToJson()), witnesses: [Witness, Other]);
        Assert.True(result.IsValid, result.Failure);
        Assert.Equal([Witness.Name], result.Witnesses);
        Assert.Empty(ReceiptVerifier.Verify(receipt).Witnesses!);
    }

    [Fact]
    public void GetReceipt_EventOfTheCosignedBlock_SameSizeEmptyConsistencyProof()
    {
        var receipt = _second!;

        Assert.Equal(6, receipt.TreeLeafIndex);
        Assert.Empty(Assert.Single(receipt.Cosignatures!).ConsistencyProof);
        Assert.Equal([Witness.Name], ReceiptVerifier.Verify(receipt, witnesses: [Witness]).Witnesses);
    }

    [Fact]
    public void Verify_TamperedTreeIndexProofOrCosignature_Fails()
    {
        var receipt = _first!;
        var cosignature = receipt.Cosignatures![0];
        var flipped = Hash32.Compute("not a node of the tree"u8).ToHex();

        Assert.Contains("tree leaf", ReceiptVerifier.Verify(receipt with { TreeLeafIndex = 3 }).Failure, StringComparison.Ordinal);
        Assert.False(ReceiptVerifier.Verify(receipt with { TreeInclusionProof = [.. receipt.TreeInclusionProof!.Reverse()] }).IsValid);
        Assert.Contains("not consistent", ReceiptVerifier.Verify(receipt with { Cosignatures = [cosignature with { ConsistencyProof = [flipped, .. cosignature.ConsistencyProof.Skip(1)] }] }).Failure, StringComparison.Ordinal);
        Assert.Contains("does not name block", ReceiptVerifier.Verify(receipt with { Checkpoint = _second!.Checkpoint }).Failure, StringComparison.Ordinal);
        Assert.False(ReceiptVerifier.Verify(receipt with { Format = Receipt.CurrentFormat }).IsValid);
    }

    [Fact]
    public void Verify_CosignatureByAnotherKeyUnderTheWitnesssName_DoesNotVouch()
    {
        var receipt = _first!;
        var impostorKey = new Ed25519PrivateKeyParameters(Enumerable.Repeat((byte)5, 32).ToArray());
        var impostor = Cosigner.OfEd25519(Witness.Name, impostorKey);
        var note = SignedNote.Parse(receipt.Cosignatures![0].Note);
        var forged = new SignedNote(note.Text, [note.Signatures[0], impostor.SignEd25519(impostorKey, note.Text, DateTimeOffset.UtcNow)]).Format();

        var result = ReceiptVerifier.Verify(receipt with { Cosignatures = [receipt.Cosignatures[0] with { Note = forged }] }, witnesses: [Witness]);

        Assert.True(result.IsValid, result.Failure);
        Assert.Empty(result.Witnesses!);
    }

    [Fact]
    public void Verify_OldFormatWithoutTheCheckpoint_StillValid()
    {
        var old = _first! with { Format = Receipt.CurrentFormat, Checkpoint = null, TreeLeafIndex = null, TreeInclusionProof = null, Cosignatures = null };

        Assert.True(ReceiptVerifier.Verify(old).IsValid, ReceiptVerifier.Verify(old).Failure);
    }
}
