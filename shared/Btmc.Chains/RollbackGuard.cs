using System.Collections.Concurrent;
using Btmc.Ledger;
using Btmc.Ledger.Transparency;

namespace Btmc.Chains;

/// <summary>
/// Why sealing is refused: a checkpoint a witness cosigned that this ledger's stored chain is behind or off.
/// <paramref name="OurSize"/> and <paramref name="OurRoot"/> are the chain's head (or, when off, its tree at the
/// cosigned size); <paramref name="Source"/> says where the cosigned checkpoint was found.
/// </summary>
public sealed record RollbackFinding(string ChainId, long OurSize, Hash32 OurRoot, long CosignedSize, Hash32 CosignedRoot, string Witness, string Source)
{
    public bool Behind => OurSize < CosignedSize;

    public string Describe() => Behind
        ? $"chain {ChainId} is at size {OurSize} (root {OurRoot.ToHex()}), behind size {CosignedSize} (root {CosignedRoot.ToHex()}) that witness '{Witness}' cosigned ({Source})"
        : $"chain {ChainId} has root {OurRoot.ToHex()} at size {OurSize}, but witness '{Witness}' cosigned root {CosignedRoot.ToHex()} at that size ({Source})";
}

/// <summary>Sealing was refused by the <see cref="RollbackGuard"/>.</summary>
public sealed class SealingRefusedException(IReadOnlyList<RollbackFinding> findings)
    : InvalidOperationException("Sealing is refused: " + string.Join("; ", findings.Select(f => f.Describe())))
{
    public IReadOnlyList<RollbackFinding> Findings => findings;
}

/// <summary>
/// Refuses to seal a chain that is behind or off a checkpoint a witness cosigned — the state after a backup restore,
/// or a rewritten table. Sealing on would re-issue heights and sizes the world has already seen with other contents:
/// a silent fork. The cosigned checkpoints come from the ledger's own record (the <c>cosignatures</c> table) and,
/// when configured, from witnesses' state folders (<c>*.cosigned</c> files, written by <c>btmc witness</c>), which
/// live outside the data and so survive its restore. Checked on start (every known chain: behind, or a different root
/// at a cosigned size) and before every commit (a chain behind the largest cosigned size it knows).
/// </summary>
public sealed class RollbackGuard(ChainReader reader, IReadOnlyList<string> witnessStateFolders)
{
    /// <summary>The extension of a witness's state files.</summary>
    public const string StateFileExtension = ".cosigned";

    private readonly ConcurrentDictionary<string, (long Size, Hash32 Root, string Witness, string Source)> _largest = new(StringComparer.Ordinal);
    private volatile IReadOnlyList<RollbackFinding> _findings = [];

    /// <summary>What refuses sealing now; empty when sealing may go on.</summary>
    public IReadOnlyList<RollbackFinding> Findings => _findings;

    public bool IsRefused => _findings.Count > 0;

    /// <summary>
    /// Compares every chain's stored tree with every cosigned checkpoint known for it; remembers and returns the findings.
    /// </summary>
    public async Task<IReadOnlyList<RollbackFinding>> CheckAsync(IEnumerable<string> alsoCheck, CancellationToken cancellationToken = default)
    {
        var checkpoints = new ChainCheckpoints(reader);
        var chains = (await reader.KnownChainsAsync(alsoCheck, cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        var cosigned = new List<(string ChainId, Checkpoint Checkpoint, string Witness, string Source)>();
        var cosignatures = new WitnessCosignatures(reader.Tables);
        foreach (var chainId in chains)
        {
            foreach (var latest in await cosignatures.LatestAsync(chainId, cancellationToken).ConfigureAwait(false))
            {
                cosigned.Add((chainId, Checkpoint.Parse(SignedNote.Parse(latest.Note).Text), latest.Witness, "the ledger's cosignatures table"));
            }
        }

        var deployment = await checkpoints.DeploymentAsync(cancellationToken).ConfigureAwait(false);
        foreach (var folder in witnessStateFolders)
        {
            foreach (var (checkpoint, witness, file) in ReadStateFolder(folder))
            {
                if (deployment is not null && checkpoint.Origin.StartsWith(deployment + "/", StringComparison.Ordinal))
                {
                    cosigned.Add((checkpoint.Origin[(deployment.Length + 1)..], checkpoint, witness, $"witness state {file}"));
                }
            }
        }

        var findings = new List<RollbackFinding>();
        foreach (var (chainId, checkpoint, witness, source) in cosigned)
        {
            Remember(chainId, checkpoint.Size, checkpoint.RootHash, witness, source);
            var head = await reader.FindHeadAsync(chainId, cancellationToken).ConfigureAwait(false);
            var headSize = head?.TotalEntries ?? 0;
            if (headSize < checkpoint.Size)
            {
                var headRoot = head is null ? MerkleTree.EmptyRoot : (await checkpoints.FrontierAfterAsync(chainId, head, cancellationToken).ConfigureAwait(false)).ComputeRoot();
                findings.Add(new RollbackFinding(chainId, headSize, headRoot, checkpoint.Size, checkpoint.RootHash, witness, source));
                continue;
            }

            var block = await checkpoints.FindBlockBySizeAsync(chainId, checkpoint.Size, head, cancellationToken).ConfigureAwait(false);
            var root = block is null ? (Hash32?)null : (await checkpoints.FrontierOfAsync(block, cancellationToken).ConfigureAwait(false)).ComputeRoot();
            if (root != checkpoint.RootHash)
            {
                findings.Add(new RollbackFinding(chainId, checkpoint.Size, root ?? Hash32.Zero, checkpoint.Size, checkpoint.RootHash, witness, source));
            }
        }

        _findings = findings;
        return findings;
    }

    /// <summary>Learns a checkpoint a witness cosigned while running (a verified cosignature the ledger recorded).</summary>
    public void Remember(string chainId, long size, Hash32 root, string witness, string source) =>
        _largest.AddOrUpdate(chainId, (size, root, witness, source), (_, known) => size > known.Size ? (size, root, witness, source) : known);

    /// <summary>
    /// Throws when sealing is refused, or when the next block of <paramref name="chainId"/> would follow a head of
    /// <paramref name="headSize"/> entries that is behind a cosigned checkpoint (its size was issued already).
    /// </summary>
    /// <exception cref="SealingRefusedException">Sealing must not go on.</exception>
    public void ThrowIfRefused(string chainId, long headSize, Hash32 headRoot)
    {
        if (_findings.Count > 0)
        {
            throw new SealingRefusedException(_findings);
        }

        if (_largest.TryGetValue(chainId, out var largest) && headSize < largest.Size)
        {
            _findings = [new RollbackFinding(chainId, headSize, headRoot, largest.Size, largest.Root, largest.Witness, largest.Source)];
            throw new SealingRefusedException(_findings);
        }
    }

    /// <summary>The checkpoints in a witness's state folder: every readable <c>*.cosigned</c> file, with the witness that cosigned it last.</summary>
    public static IEnumerable<(Checkpoint Checkpoint, string Witness, string File)> ReadStateFolder(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"The witness state folder {folder} does not exist.");
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*" + StateFileExtension).Order(StringComparer.Ordinal))
        {
            var note = SignedNote.Parse(File.ReadAllText(file));
            var witness = note.Signatures.Count > 1 ? note.Signatures[^1].KeyName : "unknown";
            yield return (Checkpoint.Parse(note.Text), witness, file);
        }
    }
}
