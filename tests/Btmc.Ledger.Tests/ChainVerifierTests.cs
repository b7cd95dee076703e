using System.Collections.ObjectModel;
using System.Security.Cryptography;
using Xunit;

namespace Btmc.Ledger.Tests;

public sealed class ChainVerifierTests : IDisposable
{
    private const string ChainId = "btmc-test-chain";
    private const string P256KeyId = "producer-p256";
    private const string Secp256k1KeyId = "producer-k1";

    private readonly ECDsa _p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _secp256k1 = ECDsa.Create(ECCurve.CreateFromValue("1.3.132.0.10"));
    private readonly Dictionary<string, EcPublicJwk> _keys;
    private readonly List<SealedBlock> _chain;

    public ChainVerifierTests()
    {
        _keys = new(StringComparer.Ordinal)
        {
            [P256KeyId] = EcPublicJwk.FromECDsa(_p256, P256KeyId),
            [Secp256k1KeyId] = EcPublicJwk.FromECDsa(_secp256k1, Secp256k1KeyId),
        };
        _chain = BuildChain(5);
    }

    public void Dispose()
    {
        _p256.Dispose();
        _secp256k1.Dispose();
    }

    [Fact]
    public void Append_ValidChainOfFive_VerifiesEveryBlockAndTracksHead()
    {
        var verifier = NewVerifier();

        foreach (var block in _chain)
        {
            Assert.Null(verifier.Append(block));
        }

        Assert.Equal(5, verifier.VerifiedBlocks);
        Assert.Equal(_chain[4].Header.ComputeHash(), verifier.HeadHash);
        Assert.Null(verifier.Fault);
    }

    [Fact]
    public void Append_NothingYet_HasNoHeadAndNoFault()
    {
        var verifier = NewVerifier();

        Assert.Equal(0, verifier.VerifiedBlocks);
        Assert.Null(verifier.HeadHash);
        Assert.Null(verifier.Fault);
    }

    [Fact]
    public void Append_ChangedLeafHash_FaultsMerkleRootMismatchAtThatBlock()
    {
        var leaves = _chain[2].LeafHashes.ToArray();
        leaves[1] = new LedgerEntry("tampered-event", Hash32.Compute("tampered"u8), "fab-01").ComputeLeafHash();
        _chain[2] = _chain[2] with { LeafHashes = leaves };

        var fault = RunUntilFault();

        Assert.Equal(2, fault.Height);
        Assert.Equal(ChainId, fault.ChainId);
        Assert.Contains("merkle root mismatch", fault.Reason, StringComparison.Ordinal);
        Assert.Contains(_chain[2].Header.MerkleRoot.ToHex(), fault.Reason, StringComparison.Ordinal);
        Assert.Contains(MerkleTree.ComputeRoot(leaves).ToHex(), fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_ChangedHeaderFieldWithoutResigning_FaultsSignatureAtThatBlock()
    {
        var header = _chain[3].Header;
        _chain[3] = _chain[3] with { Header = header with { SlotTime = header.SlotTime.AddSeconds(1) } };

        var fault = RunUntilFault();

        Assert.Equal(3, fault.Height);
        Assert.Contains("signature does not verify", fault.Reason, StringComparison.Ordinal);
        Assert.Contains(header.KeyId, fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_SignatureFromOtherProducerKey_FaultsSignature()
    {
        // Block 1 names the secp256k1 key but is signed by the P-256 producer key.
        _chain[1] = _chain[1] with { Signature = BlockSignature.Sign(_p256, _chain[1].Header.ComputeHash()) };

        var fault = RunUntilFault();

        Assert.Equal(1, fault.Height);
        Assert.Contains("signature does not verify", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_BrokenPreviousHash_FaultsLinkToPreviousBlock()
    {
        _chain[2] = Seal(_chain[2].Header with { PreviousHash = Hash32.Compute("elsewhere"u8) }, _chain[2].LeafHashes);

        var fault = RunUntilFault();

        Assert.Equal(2, fault.Height);
        Assert.Contains("previous hash does not link to block 1", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_GenesisWithNonZeroPreviousHash_FaultsAtHeightZero()
    {
        _chain[0] = Seal(_chain[0].Header with { PreviousHash = Hash32.Compute("before genesis"u8) }, _chain[0].LeafHashes);

        var fault = RunUntilFault();

        Assert.Equal(0, fault.Height);
        Assert.Contains("previous hash", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_SkippedHeight_FaultsExpectedHeight()
    {
        var verifier = NewVerifier();
        Assert.Null(verifier.Append(_chain[0]));
        Assert.Null(verifier.Append(_chain[1]));

        var fault = verifier.Append(_chain[3]);

        Assert.NotNull(fault);
        Assert.Equal(3, fault.Height);
        Assert.Contains("height 2 expected, found 3", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_RepeatedBlock_FaultsExpectedHeight()
    {
        var verifier = NewVerifier();
        Assert.Null(verifier.Append(_chain[0]));

        var fault = verifier.Append(_chain[0]);

        Assert.NotNull(fault);
        Assert.Equal(0, fault.Height);
        Assert.Contains("height 1 expected, found 0", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_WrongChainId_FaultsChainIdMismatch()
    {
        _chain[1] = Seal(_chain[1].Header with { ChainId = "another-chain" }, _chain[1].LeafHashes);

        var fault = RunUntilFault();

        Assert.Equal(1, fault.Height);
        Assert.Equal(ChainId, fault.ChainId);
        Assert.Contains("chain id mismatch", fault.Reason, StringComparison.Ordinal);
        Assert.Contains("another-chain", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_UnknownKeyId_FaultsUnknownKey()
    {
        _chain[4] = Seal(_chain[4].Header with { KeyId = "retired-key" }, _chain[4].LeafHashes, _p256);

        var fault = RunUntilFault();

        Assert.Equal(4, fault.Height);
        Assert.Contains("unknown key id", fault.Reason, StringComparison.Ordinal);
        Assert.Contains("retired-key", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_LeafCountDiffersFromEntries_FaultsLeafCount()
    {
        var leaves = _chain[2].LeafHashes.ToArray()[..^1];
        _chain[2] = _chain[2] with { LeafHashes = leaves };

        var fault = RunUntilFault();

        Assert.Equal(2, fault.Height);
        Assert.Contains($"leaf count {leaves.Length + 1} but {leaves.Length} entries", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_MalformedResolvedKey_FaultsInsteadOfThrowing()
    {
        _keys[P256KeyId] = _keys[P256KeyId] with { X = "not base64url" };

        var fault = RunUntilFault();

        Assert.Equal(0, fault.Height);
        Assert.Contains("malformed", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_AfterFault_ReturnsSameFaultAndVerifiesNothingMore()
    {
        var verifier = NewVerifier();
        Assert.Null(verifier.Append(_chain[0]));
        var first = verifier.Append(_chain[2]);

        var again = verifier.Append(_chain[1]);

        Assert.NotNull(first);
        Assert.Same(first, again);
        Assert.Same(first, verifier.Fault);
        Assert.Equal(1, verifier.VerifiedBlocks);
        Assert.Equal(_chain[0].Header.ComputeHash(), verifier.HeadHash);
    }

    [Fact]
    public void Append_LeafHashesInReadOnlyCollection_Verifies()
    {
        var verifier = NewVerifier();
        var block = _chain[0] with { LeafHashes = new ReadOnlyCollection<Hash32>(_chain[0].LeafHashes.ToArray()) };

        Assert.Null(verifier.Append(block));
    }

    [Fact]
    public void Append_NullBlock_ThrowsArgumentNullException()
    {
        var verifier = NewVerifier();

        Assert.Throws<ArgumentNullException>(() => verifier.Append(null!));
    }

    [Fact]
    public void Constructor_EmptyChainIdOrNullResolver_ThrowsArgumentException()
    {
        Assert.Equal("chainId", Assert.Throws<ArgumentException>(() => new ChainVerifier("", _ => null)).ParamName);
        Assert.Equal("resolveKey", Assert.Throws<ArgumentNullException>(() => new ChainVerifier(ChainId, (Func<string, EcPublicJwk?>)null!)).ParamName);
    }

    private ChainVerifier NewVerifier() => new(ChainId, kid => _keys.GetValueOrDefault(kid));

    private ChainFault RunUntilFault()
    {
        var verifier = NewVerifier();
        var accepted = 0;
        foreach (var block in _chain)
        {
            if (verifier.Append(block) is { } fault)
            {
                Assert.Same(fault, verifier.Fault);
                Assert.Equal(accepted, verifier.VerifiedBlocks);
                return fault;
            }

            accepted++;
        }

        Assert.Fail("the tampered chain verified");
        throw new InvalidOperationException();
    }

    // Block h holds h + 2 entries; blocks alternate between the P-256 and the secp256k1 producer key.
    private List<SealedBlock> BuildChain(int length)
    {
        var chain = new List<SealedBlock>(length);
        var previous = Hash32.Zero;
        var slot = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var height = 0; height < length; height++)
        {
            var leaves = new Hash32[height + 2];
            for (var i = 0; i < leaves.Length; i++)
            {
                var eventId = $"evt-{height}-{i}";
                leaves[i] = new LedgerEntry(eventId, Hash32.Compute(System.Text.Encoding.UTF8.GetBytes(eventId)), "fab-01").ComputeLeafHash();
            }

            var header = new BlockHeader(
                BlockHeader.CurrentVersion,
                ChainId,
                height,
                previous,
                MerkleTree.ComputeRoot(leaves),
                leaves.Length,
                slot.AddSeconds(10 * height),
                "producer-1",
                height % 2 == 0 ? P256KeyId : Secp256k1KeyId);
            var block = Seal(header, leaves);
            chain.Add(block);
            previous = header.ComputeHash();
        }

        return chain;
    }

    private SealedBlock Seal(BlockHeader header, IReadOnlyList<Hash32> leaves, ECDsa? key = null)
    {
        var signer = key ?? (header.KeyId == Secp256k1KeyId ? _secp256k1 : _p256);
        return new SealedBlock(header, BlockSignature.Sign(signer, header.ComputeHash()), leaves);
    }
}
