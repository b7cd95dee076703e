using System.Text.Json;
using Btmc.Chains;
using Btmc.Ledger;
using Btmc.Ledger.Transparency;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Receipts;

/// <summary>
/// Issues receipts: a sealed event's inclusion proof in its block, the signed block header and the producer's public
/// key, and — for a block with a checkpoint — the checkpoint, the event's inclusion proof in the chain-wide tree and
/// each registered witness's first cosigned checkpoint covering it: everything a verifier needs offline
/// (docs/ledger-format.md).
/// </summary>
public sealed class ReceiptIssuer(SupplyReader reader, ChainStore store)
{
    /// <summary>The registered witnesses whose cosignatures go into receipts (the governance state's); none by default.</summary>
    public Func<IReadOnlyCollection<Cosigner>> Witnesses { get; set; } = () => [];

    public async Task<Receipt?> GetAsync(string eventId, CancellationToken cancellationToken = default)
    {
        if (await reader.FindSealedAsync(eventId, cancellationToken).ConfigureAwait(false) is not { } found)
        {
            return null;
        }

        return await IssueAsync(found.Position, eventId, record: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The receipt of a record of a chain of records (the trade chain, docs/trade.md): format
    /// <see cref="Receipt.RecordFormat"/>, carrying the record's stored bytes instead of an EPCIS event.
    /// </summary>
    /// <exception cref="InvalidOperationException">The block at <paramref name="position"/> does not hold <paramref name="recordId"/>, or has no checkpoint.</exception>
    public async Task<Receipt> GetRecordAsync(LedgerPosition position, string recordId, CancellationToken cancellationToken = default)
    {
        var receipt = await IssueAsync(position, recordId, record: true, cancellationToken).ConfigureAwait(false);
        return receipt.Format == Receipt.CheckpointFormat
            ? receipt with { Format = Receipt.RecordFormat }
            : throw new InvalidOperationException($"{position.ChainId} block {position.Height} has no checkpoint: its records have no receipt of format {Receipt.RecordFormat}.");
    }

    private async Task<Receipt> IssueAsync(LedgerPosition p, string id, bool record, CancellationToken cancellationToken)
    {
        var block = await reader.Chain.GetBlockAsync(p.ChainId, p.Height, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{id} is recorded at {p.ChainId} block {p.Height}, which is not stored.");
        var entries = await reader.Chain.ReadEntriesAsync(p.ChainId, p.Height, block.BlockHash, block.Header.LeafCount, withEvents: false, cancellationToken).ConfigureAwait(false);
        if (entries.Count != block.Header.LeafCount || p.LeafIndex >= entries.Count || entries[(int)p.LeafIndex].EventId != id)
        {
            throw new InvalidOperationException($"{p.ChainId} block {p.Height} does not hold '{id}' at leaf {p.LeafIndex}.");
        }

        var leaves = new Hash32[entries.Count];
        for (var i = 0; i < leaves.Length; i++)
        {
            leaves[i] = entries[i].Leaf.ComputeLeafHash();
        }

        var key = await reader.Chain.GetProducerKeyAsync(block.Header.KeyId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Producer key {block.Header.KeyId} is not registered.");
        var stored = await reader.Chain.GetEntryAsync(p.ChainId, p.Height, block.BlockHash, p.LeafIndex, cancellationToken).ConfigureAwait(false);
        JsonElement? evt = stored is null || record ? null : JsonDocument.Parse(stored.Event).RootElement.Clone();
        var entry = entries[(int)p.LeafIndex];
        var signed = entry.Signed;
        var receipt = new Receipt(
            signed is null ? Receipt.CurrentFormat : Receipt.SignedCaptureFormat, id, entry.EventHash.ToHex(), entry.Partner, p.ChainId, p.Height, p.LeafIndex, ReceiptHeader.From(block.Header),
            block.BlockHash.ToHex(), MerkleTree.CreateInclusionProof(leaves, p.LeafIndex).Select(h => h.ToHex()).ToList(),
            new ReceiptSignature(key.Algorithm.ToString(), Convert.ToBase64String(block.Signature)), key, evt,
            signed is null ? null : ReceiptCapture.From(signed),
            Record: record && stored is not null ? Convert.ToBase64String(stored.Event.Span) : null);
        return block.Checkpoint is null || block.TotalEntries is not { } size
            ? receipt
            : await WithCheckpointAsync(receipt, block, size, leaves, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The receipt with the block's checkpoint, the leaf's proof in the chain-wide tree, and the witnesses' cosignatures covering it.</summary>
    private async Task<Receipt> WithCheckpointAsync(Receipt receipt, StoredBlock block, long size, Hash32[] leaves, CancellationToken cancellationToken)
    {
        // The tree after block h is the frontier after block h − 1 with block h's leaves appended.
        var before = new MerkleFrontier();
        if (block.Header.Height > 0)
        {
            var previous = await reader.Chain.GetBlockAsync(receipt.ChainId, block.Header.Height - 1, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Block {block.Header.Height - 1} of {receipt.ChainId} is missing.");
            before = await store.Checkpoints.FrontierOfAsync(previous, cancellationToken).ConfigureAwait(false);
        }

        if (before.Size + leaves.Length != size)
        {
            throw new InvalidDataException($"{receipt.ChainId} block {block.Header.Height} ends at {size} entries, but the block before it ends at {before.Size} and it has {leaves.Length}.");
        }

        var index = before.Size + receipt.LeafIndex;
        var proof = FrontierInclusionProof.Create(before, leaves, index);
        var cosignatures = new List<ReceiptCosignature>();
        foreach (var witness in Witnesses().OrderBy(w => w.Name, StringComparer.Ordinal))
        {
            if (await store.Cosignatures.FirstCoveringAsync(receipt.ChainId, witness.KeyId, size, cancellationToken).ConfigureAwait(false) is not { } cosigned)
            {
                continue;
            }

            Hash32[] consistency;
            try
            {
                consistency = cosigned.Size == size ? [] : await store.Checkpoints.ConsistencyProofAsync(receipt.ChainId, size, cosigned.Size, cancellationToken).ConfigureAwait(false);
            }
            catch (ArgumentException)
            {
                // The witness's first covering checkpoint is further than one proof may span: the receipt goes without it.
                continue;
            }

            cosignatures.Add(new ReceiptCosignature(witness.Name, $"{witness.KeyId:x8}", cosigned.Note, consistency.Select(h => h.ToHex()).ToList()));
        }

        return receipt with
        {
            Format = Receipt.CheckpointFormat,
            Checkpoint = block.Checkpoint,
            TreeLeafIndex = index,
            TreeInclusionProof = proof.Select(h => h.ToHex()).ToList(),
            Cosignatures = cosignatures,
        };
    }
}
