using System.Runtime.InteropServices;
using Btmc.Ledger.Dpos;

namespace Btmc.Ledger;

/// <summary>
/// Streaming verifier of one chain. Feed blocks in height order, starting at height 0; the first fault stops it.
/// Checks, in order: chain id, header version, height, previous-hash link, leaf count, Merkle root, then either the
/// key id and signature alone or, under DPoS rules, the slot, the slot's producer, its key id and its signature.
/// Not thread-safe.
/// </summary>
public sealed class ChainVerifier
{
    private readonly DposRules? _rules;
    private readonly ChainSchedule? _schedule;

    /// <summary>A verifier that checks signatures against whatever key the header names.</summary>
    /// <param name="chainId">The chain every block must name.</param>
    /// <param name="resolveKey">Looks up a producer's public key by the header's key id; null when unknown.</param>
    public ChainVerifier(string chainId, Func<string, EcPublicJwk?> resolveKey)
    {
        _chainId = !string.IsNullOrEmpty(chainId) ? chainId : throw new ArgumentException("The chain id is required.", nameof(chainId));
        _resolveKey = resolveKey ?? throw new ArgumentNullException(nameof(resolveKey));
    }

    /// <summary>
    /// A verifier that also checks the producer schedule: every block sits at the start of a slot later than the
    /// previous block's, and is signed by the key of the producer the rules give that slot (docs/dpos.md).
    /// </summary>
    public ChainVerifier(string chainId, DposRules rules)
        : this(chainId, _ => null)
    {
        _rules = rules ?? throw new ArgumentNullException(nameof(rules));
        _schedule = new ChainSchedule(rules, chainId);
    }

    private readonly string _chainId;

    private readonly Func<string, EcPublicJwk?> _resolveKey;

    /// <summary>
    /// Starts after a block the caller already trusts (a checkpoint it verified before), instead of at height 0: the
    /// next block must have the height after <paramref name="trusted"/> and link to <paramref name="blockHash"/>, and
    /// under DPoS rules the schedule follows on from the trusted block's slot, with its <paramref name="signature"/> and
    /// the signature of the chain's last block before its round (<paramref name="roundSeedSignature"/>, empty when the
    /// trusted block is in the chain's first round with blocks), as <see cref="ChainSchedule.Resume"/> takes them.
    /// </summary>
    /// <exception cref="InvalidOperationException">Blocks were verified already.</exception>
    /// <exception cref="ArgumentException">The trusted block is of another chain, or not at a slot start under the rules.</exception>
    public void ResumeAfter(BlockHeader trusted, Hash32 blockHash, ReadOnlySpan<byte> signature, ReadOnlySpan<byte> roundSeedSignature)
    {
        ArgumentNullException.ThrowIfNull(trusted);
        if (VerifiedBlocks != 0 || HeadHash is not null || Fault is not null)
        {
            throw new InvalidOperationException("A verifier resumes only before its first block.");
        }

        if (!string.Equals(trusted.ChainId, _chainId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The trusted block is of chain '{trusted.ChainId}', not '{_chainId}'.", nameof(trusted));
        }

        if (_schedule is not null)
        {
            var slot = _rules!.Clock.SlotOf(trusted.SlotTime)
                ?? throw new ArgumentException($"The trusted block's slot time {trusted.SlotTime:O} is not a slot start.", nameof(trusted));
            _schedule.Resume(slot, signature, roundSeedSignature);
        }

        VerifiedBlocks = trusted.Height + 1;
        HeadHash = blockHash;
    }

    /// <summary>How many blocks verified so far (with those up to a trusted block resumed after); also the height the next block must have.</summary>
    public long VerifiedBlocks { get; private set; }

    /// <summary>The hash of the last verified block; null before the first.</summary>
    public Hash32? HeadHash { get; private set; }

    /// <summary>The first fault, once one is found.</summary>
    public ChainFault? Fault { get; private set; }

    /// <summary>Verifies the next block. Null when it is good; otherwise the fault, which every later call returns too.</summary>
    /// <exception cref="ArgumentException">The block, its header, signature or leaf list is null.</exception>
    public ChainFault? Append(SealedBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (block.Header is null || block.Signature is null || block.LeafHashes is null)
        {
            throw new ArgumentException("The block must have a header, a signature and a leaf list.", nameof(block));
        }

        if (Fault is not null)
        {
            return Fault;
        }

        var reason = Check(block, out var blockHash);
        if (reason is not null)
        {
            Fault = new ChainFault(_chainId, block.Header.Height, reason);
            return Fault;
        }

        VerifiedBlocks++;
        HeadHash = blockHash;
        return null;
    }

    private string? Check(SealedBlock block, out Hash32 blockHash)
    {
        blockHash = default;
        var header = block.Header;
        if (!string.Equals(header.ChainId, _chainId, StringComparison.Ordinal))
        {
            return $"chain id mismatch: expected '{_chainId}', found '{header.ChainId}'";
        }

        if (header.Version != BlockHeader.CurrentVersion)
        {
            return $"header version {header.Version} is not supported";
        }

        if (header.Height != VerifiedBlocks)
        {
            return $"height {VerifiedBlocks} expected, found {header.Height}";
        }

        if (HeadHash is { } head)
        {
            if (!header.PreviousHash.Equals(head))
            {
                return $"previous hash does not link to block {VerifiedBlocks - 1}: header {header.PreviousHash}, block {VerifiedBlocks - 1} hash {head}";
            }
        }
        else if (!header.PreviousHash.Equals(Hash32.Zero))
        {
            return $"previous hash of the first block is {header.PreviousHash}, not zero";
        }

        if (header.LeafCount != block.LeafHashes.Count)
        {
            return $"leaf count {header.LeafCount} but {block.LeafHashes.Count} entries";
        }

        var computedRoot = MerkleTree.ComputeRoot(AsSpan(block.LeafHashes));
        if (!computedRoot.Equals(header.MerkleRoot))
        {
            return $"merkle root mismatch: header {header.MerkleRoot} computed {computedRoot}";
        }

        try
        {
            blockHash = header.ComputeHash();
        }
        catch (ArgumentException ex)
        {
            return $"header cannot be encoded: {ex.Message}";
        }

        var key = _rules is null ? _resolveKey(header.KeyId) : null;
        if (_rules is not null)
        {
            var scheduleFault = CheckSchedule(header, block.Signature, out key);
            if (scheduleFault is not null)
            {
                return scheduleFault;
            }
        }

        if (key is null)
        {
            return $"unknown key id '{header.KeyId}'";
        }

        bool valid;
        try
        {
            valid = BlockSignature.Verify(key, blockHash, block.Signature);
        }
        catch (ArgumentException ex)
        {
            return $"key '{header.KeyId}' is malformed: {ex.Message}";
        }

        return valid ? null : $"signature does not verify with key '{header.KeyId}'";
    }

    /// <summary>The slot rules: a slot start, after the previous block's slot, and the slot's producer and key.</summary>
    private string? CheckSchedule(BlockHeader header, ReadOnlySpan<byte> signature, out EcPublicJwk? key)
    {
        key = null;
        var clock = _rules!.Clock;
        if (clock.SlotOf(header.SlotTime) is not { } slot)
        {
            return $"slot time {header.SlotTime:O} is not the start of a slot at or after genesis";
        }

        if (_schedule!.LastSlot is { } last && slot <= last)
        {
            return $"slot {slot} is not after the previous block's slot {last}: one block per slot, in slot order";
        }

        var round = clock.RoundOf(slot);
        var position = clock.IndexInRound(slot);
        ProducerCandidate expected;
        try
        {
            expected = _schedule.ProducerOf(slot);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            return $"no producer schedule for round {round}: {ex.Message}";
        }

        if (!string.Equals(header.ProducerId, expected.ProducerId, StringComparison.Ordinal))
        {
            return $"slot {slot} (round {round}, position {position}) belongs to producer '{expected.ProducerId}', but the block names '{header.ProducerId}'";
        }

        string expectedKeyId;
        try
        {
            expectedKeyId = expected.PublicKey.ComputeThumbprint();
        }
        catch (ArgumentException ex)
        {
            return $"producer '{expected.ProducerId}' has a malformed key: {ex.Message}";
        }

        if (!string.Equals(header.KeyId, expectedKeyId, StringComparison.Ordinal))
        {
            return $"key id '{header.KeyId}' is not the key of producer '{expected.ProducerId}' ('{expectedKeyId}')";
        }

        _schedule.Follow(slot, signature);
        key = expected.PublicKey;
        return null;
    }

    private static ReadOnlySpan<Hash32> AsSpan(IReadOnlyList<Hash32> leaves) => leaves switch
    {
        Hash32[] array => array,
        List<Hash32> list => CollectionsMarshal.AsSpan(list),
        _ => leaves.ToArray(),
    };
}
