using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Btmc.Ledger;
using Btmc.Ledger.Transparency;

namespace Btmc.Chains;

/// <summary>
/// What a block commits beside its header: the frontier of the chain-wide tree after it and its signed checkpoint
/// note; with the tree's root before the block, for the rollback guard's message.
/// </summary>
public sealed record BlockCheckpoint(MerkleFrontier Frontier, string Note, Hash32 PreviousRoot);

/// <summary>
/// The chain-wide tree of every chain (docs/ledger-format.md, "Checkpoints"): one RFC 9162 tree over all of a chain's
/// entries in order, whose size after a block is the chain's entry count. Each block row stores the tree's frontier
/// after it and a C2SP checkpoint of that size signed by the block's producer, written with the block in one insert,
/// so a checkpoint exists exactly for every committed block and for nothing else. Blocks keep their own per-block trees
/// (receipts prove inclusion in them); the chain-wide tree is what witnesses follow and auditors check consistency of.
/// </summary>
public sealed class ChainCheckpoints(ChainReader reader)
{
    /// <summary>The block row property holding the frontier (concatenated node hashes).</summary>
    public const string FrontierProperty = "Frontier";

    /// <summary>The block row property holding the signed checkpoint note.</summary>
    public const string CheckpointProperty = "Checkpoint";

    /// <summary>The chain whose first block names the deployment in every origin.</summary>
    public const string GovernanceChainId = "governance";

    /// <summary>The most entries one consistency proof may stream (4 Mi leaves, 128 MiB of leaf rows read): larger spans go through intermediate checkpoints.</summary>
    public const long MaxProofSpan = 4L << 20;

    private readonly ConcurrentDictionary<string, (Hash32 BlockHash, MerkleFrontier Frontier)> _frontiers = new(StringComparer.Ordinal);
    private string? _deployment;

    public ChainReader Reader => reader;

    /// <summary>
    /// The origin line of a chain's checkpoints: <c>btmc/&lt;first 16 hex digits of the governance chain's block 0
    /// hash&gt;/&lt;chain id&gt;</c>. Derived from the ledger itself, so it needs no setting, never changes for the life
    /// of a deployment, and differs between deployments. A chain sealed without a governance chain (tests of one
    /// capability) is named by its own block 0.
    /// </summary>
    public async Task<string> OriginAsync(string chainId, long height, Hash32 blockHash, CancellationToken cancellationToken = default) =>
        $"{await DeploymentAsync(chainId, height, blockHash, cancellationToken).ConfigureAwait(false)}/{chainId}";

    /// <summary>The origin prefix of this ledger's chains (<c>btmc/&lt;16 hex&gt;</c>); null before the governance chain has block 0.</summary>
    public async Task<string?> DeploymentAsync(CancellationToken cancellationToken = default) =>
        await reader.GetBlockAsync(GovernanceChainId, 0, cancellationToken).ConfigureAwait(false) is { } genesis
            ? await DeploymentAsync(GovernanceChainId, 0, genesis.BlockHash, cancellationToken).ConfigureAwait(false)
            : null;

    private async Task<string> DeploymentAsync(string chainId, long height, Hash32 blockHash, CancellationToken cancellationToken)
    {
        if (_deployment is { } known)
        {
            return known;
        }

        Hash32 genesis;
        if (await reader.GetBlockAsync(GovernanceChainId, 0, cancellationToken).ConfigureAwait(false) is { } governance)
        {
            genesis = governance.BlockHash;
        }
        else if (chainId == GovernanceChainId && height == 0)
        {
            genesis = blockHash;
        }
        else
        {
            genesis = height == 0 ? blockHash
                : (await reader.GetBlockAsync(chainId, 0, cancellationToken).ConfigureAwait(false))?.BlockHash
                  ?? throw new InvalidOperationException($"Block 0 of {chainId} is missing.");
            return $"btmc/{genesis.ToHex()[..16]}";
        }

        return _deployment = $"btmc/{genesis.ToHex()[..16]}";
    }

    /// <summary>
    /// The frontier after <paramref name="head"/> (the empty frontier before the first block): from this process's
    /// cache, else from the head's block row, else — a block sealed before checkpoints existed — rebuilt from every
    /// entry up to the head.
    /// </summary>
    public async Task<MerkleFrontier> FrontierAfterAsync(string chainId, ChainHead? head, CancellationToken cancellationToken = default)
    {
        if (head is null)
        {
            return new MerkleFrontier();
        }

        if (_frontiers.TryGetValue(chainId, out var cached) && cached.BlockHash == head.BlockHash && cached.Frontier.Size == head.TotalEntries)
        {
            return cached.Frontier.Clone();
        }

        var block = await reader.GetBlockAsync(chainId, head.Height, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Block {head.Height} of {chainId} is missing.");
        var frontier = await FrontierOfAsync(block, cancellationToken).ConfigureAwait(false);
        _frontiers[chainId] = (block.BlockHash, frontier);
        return frontier.Clone();
    }

    /// <summary>The frontier after a stored block: its stored one, or rebuilt from the chain's entries.</summary>
    /// <exception cref="InvalidDataException">The stored frontier does not fit the block's entry count.</exception>
    public async Task<MerkleFrontier> FrontierOfAsync(StoredBlock block, CancellationToken cancellationToken = default)
    {
        if (block.Frontier is { } stored && block.TotalEntries is { } total)
        {
            try
            {
                return MerkleFrontier.Decode(total, stored);
            }
            catch (FormatException ex)
            {
                throw new InvalidDataException($"Block {block.Header.Height} of {block.Header.ChainId} stores a damaged frontier: {ex.Message}", ex);
            }
        }

        var frontier = new MerkleFrontier();
        await foreach (var leaf in LeafHashesAsync(block.Header.ChainId, 0, block.Header.Height, cancellationToken).ConfigureAwait(false))
        {
            frontier.Append(leaf);
        }

        return frontier;
    }

    /// <summary>
    /// The checkpoint of the block about to be committed after <paramref name="head"/>: the frontier with the block's
    /// leaves appended, and the note signed by the slot's producer key (the same key that signs the header).
    /// </summary>
    public async Task<BlockCheckpoint> SignAsync(ChainHead? head, BlockHeader header, Hash32 blockHash, IReadOnlyList<Hash32> leaves, SlotTurn turn, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(header);
        var frontier = await FrontierAfterAsync(header.ChainId, head, cancellationToken).ConfigureAwait(false);
        var previousRoot = frontier.ComputeRoot();
        foreach (var leaf in leaves)
        {
            frontier.Append(leaf);
        }

        var origin = await OriginAsync(header.ChainId, header.Height, blockHash, cancellationToken).ConfigureAwait(false);
        var text = Checkpoint.ForBlock(origin, frontier.Size, frontier.ComputeRoot(), header.Height, blockHash).ToText();
        var line = await EcdsaNoteKey.SignAsync(origin, turn.Key.PublicKey, text, turn.Key.SignDigestAsync, cancellationToken).ConfigureAwait(false);
        _frontiers[header.ChainId] = (blockHash, frontier.Clone());
        return new BlockCheckpoint(frontier, new SignedNote(text, [line]).Format(), previousRoot);
    }

    /// <summary>The committed block after which the chain holds exactly <paramref name="size"/> entries; null when no block ends there.</summary>
    public async Task<StoredBlock?> FindBlockBySizeAsync(string chainId, long size, ChainHead? head = null, CancellationToken cancellationToken = default)
    {
        head ??= await reader.FindHeadAsync(chainId, cancellationToken).ConfigureAwait(false);
        if (head is null || size < 1 || size > head.TotalEntries)
        {
            return null;
        }

        // Entry counts grow with height (no block is empty): binary search over heights.
        long low = 0, high = head.Height;
        while (low <= high)
        {
            var middle = low + ((high - low) / 2);
            var block = await reader.GetBlockAsync(chainId, middle, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Block {middle} of {chainId} is missing.");
            var total = block.TotalEntries ?? throw new InvalidOperationException($"Block {middle} of {chainId} predates entry counts.");
            if (total == size)
            {
                return block;
            }

            if (total < size)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return null;
    }

    /// <summary>
    /// The RFC 9162 consistency proof between two checkpoint sizes of a chain, built from the old block's stored
    /// frontier and the leaves of the blocks after it, streamed: it costs the growth, not the history.
    /// </summary>
    /// <exception cref="ArgumentException">A size is not a checkpoint size of the chain, the sizes are out of order, or the span exceeds <see cref="MaxProofSpan"/>.</exception>
    public async Task<Hash32[]> ConsistencyProofAsync(string chainId, long fromSize, long toSize, CancellationToken cancellationToken = default)
    {
        if (fromSize < 1 || toSize < fromSize)
        {
            throw new ArgumentException($"A consistency proof needs 1 <= from <= to; got from {fromSize}, to {toSize}.", nameof(fromSize));
        }

        if (toSize - fromSize > MaxProofSpan)
        {
            throw new ArgumentException($"The span {toSize - fromSize} is larger than {MaxProofSpan} entries: prove it in steps through checkpoints in between.", nameof(toSize));
        }

        var head = await reader.FindHeadAsync(chainId, cancellationToken).ConfigureAwait(false);
        var from = await FindBlockBySizeAsync(chainId, fromSize, head, cancellationToken).ConfigureAwait(false)
            ?? throw new ArgumentException($"No checkpoint of {chainId} has size {fromSize}.", nameof(fromSize));
        var to = await FindBlockBySizeAsync(chainId, toSize, head, cancellationToken).ConfigureAwait(false)
            ?? throw new ArgumentException($"No checkpoint of {chainId} has size {toSize}.", nameof(toSize));
        var builder = new ConsistencyProofBuilder(await FrontierOfAsync(from, cancellationToken).ConfigureAwait(false), toSize);
        if (to.Header.Height > from.Header.Height)
        {
            await foreach (var leaf in LeafHashesAsync(chainId, from.Header.Height + 1, to.Header.Height, cancellationToken).ConfigureAwait(false))
            {
                builder.Append(leaf);
            }
        }

        return builder.Build();
    }

    /// <summary>The leaf hashes of blocks <paramref name="fromHeight"/> to <paramref name="toHeight"/> (inclusive), in order.</summary>
    public async IAsyncEnumerable<Hash32> LeafHashesAsync(string chainId, long fromHeight, long toHeight, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var height = fromHeight; height <= toHeight; height++)
        {
            var block = await reader.GetBlockAsync(chainId, height, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Block {height} of {chainId} is missing.");
            var entries = await reader.ReadEntriesAsync(chainId, height, block.BlockHash, block.Header.LeafCount, withEvents: false, cancellationToken).ConfigureAwait(false);
            if (entries.Count != block.Header.LeafCount)
            {
                throw new InvalidDataException($"Block {height} of {chainId} has {entries.Count} of its {block.Header.LeafCount} entries.");
            }

            foreach (var entry in entries)
            {
                yield return entry.Leaf.ComputeLeafHash();
            }
        }
    }

    /// <summary>
    /// Null when a stored block's checkpoint is the one its producer should have signed — it parses, names this
    /// block, its size and root match <paramref name="frontier"/> (the frontier after the block, re-derived), and the
    /// producer key of the header signed it — else why not.
    /// </summary>
    public static string? Check(StoredBlock block, MerkleFrontier frontier, string origin, EcPublicJwk producerKey)
    {
        if (block.Checkpoint is not { } note)
        {
            return "the block has no checkpoint";
        }

        SignedNote signed;
        Checkpoint checkpoint;
        try
        {
            signed = SignedNote.Parse(note);
            checkpoint = Checkpoint.Parse(signed.Text);
        }
        catch (FormatException ex)
        {
            return $"the checkpoint is malformed: {ex.Message}";
        }

        var expected = Checkpoint.ForBlock(origin, frontier.Size, frontier.ComputeRoot(), block.Header.Height, block.BlockHash);
        if (!checkpoint.SameAs(expected))
        {
            return $"the checkpoint says size {checkpoint.Size}, root {checkpoint.RootHash}, origin {checkpoint.Origin}; the entries give size {expected.Size}, root {expected.RootHash}, origin {expected.Origin}";
        }

        return EcdsaNoteKey.Verify(signed, origin, producerKey) ? null : "the checkpoint's signature does not verify with the block's producer key";
    }
}

/// <summary>
/// An auditor's running re-derivation of a chain's tree: feed every verified block's leaves in order and it checks
/// the block's stored frontier and signed checkpoint against them. Blocks sealed before checkpoints existed may lack
/// one, but only before the first block that has one: a checkpoint missing after that is a fault.
/// </summary>
/// <param name="checkpoints">Where origins and producer keys come from.</param>
/// <param name="chainId">The chain.</param>
/// <param name="start">The frontier after a trusted block to continue from (its checkpoint already checked); the empty tree when null.</param>
public sealed class CheckpointTrail(ChainCheckpoints checkpoints, string chainId, MerkleFrontier? start = null)
{
    private readonly MerkleFrontier _frontier = start?.Clone() ?? new();
    private bool _started = start is not null;

    /// <summary>The tree of the blocks fed so far.</summary>
    public MerkleFrontier Frontier => _frontier;

    /// <summary>Appends a block whose header and leaves are verified; null when its checkpoint is right, else why not.</summary>
    public async Task<string?> AppendAsync(StoredBlock block, IReadOnlyList<Hash32> leaves, CancellationToken cancellationToken = default)
    {
        foreach (var leaf in leaves)
        {
            _frontier.Append(leaf);
        }

        if (block.Checkpoint is null)
        {
            return _started ? "the block has no checkpoint, though earlier blocks have" : null;
        }

        _started = true;
        if (block.Frontier is { } stored && (block.TotalEntries != _frontier.Size || !stored.AsSpan().SequenceEqual(_frontier.Encode())))
        {
            return $"the stored frontier is not the tree of the chain's {_frontier.Size} entries";
        }

        var key = await checkpoints.Reader.GetProducerKeyAsync(block.Header.KeyId, cancellationToken).ConfigureAwait(false);
        if (key is null || key.ComputeThumbprint() != block.Header.KeyId)
        {
            return $"the producer key '{block.Header.KeyId}' that signed the block is not published";
        }

        var origin = await checkpoints.OriginAsync(chainId, block.Header.Height, block.BlockHash, cancellationToken).ConfigureAwait(false);
        return ChainCheckpoints.Check(block, _frontier, origin, key);
    }
}
