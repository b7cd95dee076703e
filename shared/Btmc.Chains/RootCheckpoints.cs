using System.Globalization;
using System.Text;
using System.Text.Json;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Ledger.Transparency;
using Btmc.Platform.Tables;

namespace Btmc.Chains;

/// <summary>A round's root checkpoint: its signed note and the chain checkpoints (signed notes) it commits to, in chain id order.</summary>
public sealed record RootCheckpoint(long Round, string Note, IReadOnlyList<string> Chains);

/// <summary>
/// The multi-chain root (docs/ledger-format.md, "Root checkpoints"): once a round, one checkpoint that commits to every
/// chain's latest checkpoint, so that a single signed statement — which witnesses and auditors can keep — fixes the
/// whole ledger at that moment. Its tree's leaves are the chains' checkpoint texts (note text, without signatures) in
/// ordinal chain id order; its size is the number of chains; its extension line says the round. It is signed by the
/// producer the DPoS draw gives slot 0 of the round on the pseudo-chain <c>root</c>, so anyone can tell which key must
/// have signed it, and whichever process holds that key seals it (an insert: one root per round).
/// </summary>
public sealed class RootCheckpoints(ChainReader reader)
{
    /// <summary>The pseudo-chain id of the root's origin and producer draw.</summary>
    public const string RootChainId = "root";

    /// <summary>The partition of the <c>chains</c> table holding root checkpoints, RK = long.MaxValue - round, so the newest is first.</summary>
    public const string Partition = "roots";

    public const string RoundExtension = "round ";

    /// <summary>MTH over the chain checkpoint texts, in the order given.</summary>
    public static Hash32 ComputeRoot(IEnumerable<string> chainCheckpointTexts)
    {
        var leaves = chainCheckpointTexts.Select(t => MerkleTree.HashLeaf(Encoding.UTF8.GetBytes(t))).ToArray();
        return MerkleTree.ComputeRoot(leaves);
    }

    /// <summary>Who must sign round <paramref name="round"/>'s root.</summary>
    public static ProducerCandidate ProducerOf(DposRules rules, long round) => rules.Slots(RootChainId, round, [])[0];

    /// <summary>
    /// Seals round <paramref name="round"/>'s root over the latest checkpoint of each of <paramref name="chainIds"/>, when
    /// this process holds the round's root producer key and no root of that round exists. Null otherwise.
    /// </summary>
    public async Task<RootCheckpoint?> SealAsync(long round, DposRules rules, ProducerKeyring keys, IEnumerable<string> chainIds, CancellationToken cancellationToken = default)
    {
        ProducerCandidate producer;
        try
        {
            producer = ProducerOf(rules, round);
        }
        catch (InvalidOperationException)
        {
            return null; // nobody registered for the round
        }

        if (keys.Find(producer) is not { } key || await GetAsync(round, cancellationToken).ConfigureAwait(false) is not null)
        {
            return null;
        }

        var chains = new List<string>();
        string? deployment = null;
        foreach (var chainId in chainIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (await reader.FindHeadAsync(chainId, cancellationToken).ConfigureAwait(false) is { } head
                && await reader.GetBlockAsync(chainId, head.Height, cancellationToken).ConfigureAwait(false) is { Checkpoint: { } note })
            {
                chains.Add(note);
                var origin = Checkpoint.Parse(SignedNote.Parse(note).Text).Origin;
                deployment ??= origin[..origin.LastIndexOf('/')];
            }
        }

        if (deployment is null)
        {
            return null; // no chain has a checkpoint yet
        }

        var texts = chains.Select(n => SignedNote.Parse(n).Text).ToList();
        var checkpoint = new Checkpoint($"{deployment}/{RootChainId}", texts.Count, ComputeRoot(texts), [RoundExtension + round.ToString(CultureInfo.InvariantCulture)]);
        var text = checkpoint.ToText();
        var line = await EcdsaNoteKey.SignAsync(checkpoint.Origin, key.PublicKey, text, key.SignDigestAsync, cancellationToken).ConfigureAwait(false);
        var root = new RootCheckpoint(round, new SignedNote(text, [line]).Format(), chains);
        try
        {
            await reader.Tables.Heads.AddEntityAsync(new TableEntity(Partition, RowKey(round), new Dictionary<string, object>
            {
                ["Round"] = round,
                ["Note"] = root.Note,
                ["Chains"] = JsonSerializer.Serialize(root.Chains),
            }), cancellationToken).ConfigureAwait(false);
        }
        catch (TableStoreException ex) when (ex.Status == 409)
        {
            return null; // another process of the same producer sealed it first
        }

        return root;
    }

    /// <summary>Round <paramref name="round"/>'s root, or the newest when null; null when there is none.</summary>
    public async Task<RootCheckpoint?> GetAsync(long? round = null, CancellationToken cancellationToken = default)
    {
        TableEntity? row;
        if (round is { } r)
        {
            row = await reader.Tables.Heads.GetEntityIfExistsAsync(Partition, RowKey(r), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var page = await reader.Tables.Heads.QueryAsync(new TableQuery(Partition, MaxPerPage: 1), cancellationToken).ConfigureAwait(false);
            row = page.Items.Count == 0 ? null : page.Items[0];
        }

        return row is null ? null : new RootCheckpoint(row.GetInt64("Round"), row.GetString("Note"),
            JsonSerializer.Deserialize<List<string>>(row.GetString("Chains")) ?? []);
    }

    /// <summary>
    /// Null when a root checkpoint is sound under <paramref name="rules"/> — signed by the round's root producer, its
    /// root the tree of the chain checkpoints it lists (in chain id order, all of one deployment, each signed by one
    /// of <paramref name="producerKeys"/>: every key the governance chain registered, since a chain's latest block may
    /// be older than the round's electorate) — else why not.
    /// </summary>
    public static string? Verify(RootCheckpoint root, DposRules rules, IReadOnlyCollection<EcPublicJwk> producerKeys)
    {
        ArgumentNullException.ThrowIfNull(root);
        try
        {
            var note = SignedNote.Parse(root.Note);
            var checkpoint = Checkpoint.Parse(note.Text);
            if (!checkpoint.Extensions.SequenceEqual([RoundExtension + root.Round.ToString(CultureInfo.InvariantCulture)]))
            {
                return $"the root does not name round {root.Round}";
            }

            var producer = ProducerOf(rules, root.Round);
            if (!EcdsaNoteKey.Verify(note, checkpoint.Origin, producer.PublicKey))
            {
                return $"the root of round {root.Round} is not signed by its producer '{producer.ProducerId}'";
            }

            var deployment = checkpoint.Origin[..^(RootChainId.Length + 1)];
            var texts = new List<string>();
            string? previous = null;
            foreach (var chainNote in root.Chains.Select(SignedNote.Parse))
            {
                var chain = Checkpoint.Parse(chainNote.Text);
                if (!chain.Origin.StartsWith(deployment + "/", StringComparison.Ordinal) || (previous is not null && string.CompareOrdinal(previous, chain.Origin) >= 0))
                {
                    return $"the chain checkpoint {chain.Origin} is not of this deployment or out of order";
                }

                if (!producerKeys.Any(key => EcdsaNoteKey.Verify(chainNote, chain.Origin, key)))
                {
                    return $"the chain checkpoint {chain.Origin} at size {chain.Size} is not signed by a registered producer";
                }

                previous = chain.Origin;
                texts.Add(chainNote.Text);
            }

            return checkpoint.Size == texts.Count && checkpoint.RootHash == ComputeRoot(texts)
                ? null
                : "the root hash is not the tree of the chain checkpoints it lists";
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or ArgumentException)
        {
            return $"the root checkpoint is malformed: {ex.Message}";
        }
    }

    private static string RowKey(long round) => (long.MaxValue - round).ToString("D19", CultureInfo.InvariantCulture);
}
