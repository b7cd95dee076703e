using System.Runtime.InteropServices;

namespace Btmc.Ledger;

/// <summary>
/// Streaming verifier of one chain. Feed blocks in height order, starting at height 0; the first fault stops it.
/// Checks, in order: chain id, header version, height, previous-hash link, leaf count, Merkle root, key id, signature.
/// Not thread-safe.
/// </summary>
/// <param name="chainId">The chain every block must name.</param>
/// <param name="resolveKey">Looks up a producer's public key by the header's key id; null when unknown.</param>
public sealed class ChainVerifier(string chainId, Func<string, EcPublicJwk?> resolveKey)
{
    private readonly string _chainId = !string.IsNullOrEmpty(chainId)
        ? chainId
        : throw new ArgumentException("The chain id is required.", nameof(chainId));

    private readonly Func<string, EcPublicJwk?> _resolveKey = resolveKey
        ?? throw new ArgumentNullException(nameof(resolveKey));

    /// <summary>How many blocks verified so far; also the height the next block must have.</summary>
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

        var key = _resolveKey(header.KeyId);
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

    private static ReadOnlySpan<Hash32> AsSpan(IReadOnlyList<Hash32> leaves) => leaves switch
    {
        Hash32[] array => array,
        List<Hash32> list => CollectionsMarshal.AsSpan(list),
        _ => leaves.ToArray(),
    };
}
