using System.Text.Json;
using Btmc.Ledger;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Receipts;

/// <summary>
/// Issues receipts: a sealed event's inclusion proof in its block, the signed block header and the producer's public
/// key, everything a verifier needs offline (docs/ledger-format.md).
/// </summary>
public sealed class ReceiptIssuer(SupplyReader reader)
{
    public async Task<Receipt?> GetAsync(string eventId, CancellationToken cancellationToken = default)
    {
        if (await reader.FindSealedAsync(eventId, cancellationToken).ConfigureAwait(false) is not { } found)
        {
            return null;
        }

        var p = found.Position;
        var block = await reader.Chain.GetBlockAsync(p.ChainId, p.Height, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Event index names {p.ChainId} block {p.Height}, which is not stored.");
        var entries = await reader.Chain.ReadEntriesAsync(p.ChainId, p.Height, block.BlockHash, block.Header.LeafCount, withEvents: false, cancellationToken).ConfigureAwait(false);
        if (entries.Count != block.Header.LeafCount || entries[(int)p.LeafIndex].EventId != eventId)
        {
            throw new InvalidOperationException($"{p.ChainId} block {p.Height} does not hold event '{eventId}' at leaf {p.LeafIndex}.");
        }

        var leaves = new Hash32[entries.Count];
        for (var i = 0; i < leaves.Length; i++)
        {
            leaves[i] = entries[i].Leaf.ComputeLeafHash();
        }

        var key = await reader.Chain.GetProducerKeyAsync(block.Header.KeyId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Producer key {block.Header.KeyId} is not registered.");
        var stored = await reader.Chain.GetEntryAsync(p.ChainId, p.Height, block.BlockHash, p.LeafIndex, cancellationToken).ConfigureAwait(false);
        JsonElement? evt = stored is null ? null : JsonDocument.Parse(stored.Event).RootElement.Clone();
        var signed = entries[(int)p.LeafIndex].Signed;
        return new Receipt(
            signed is null ? Receipt.CurrentFormat : Receipt.SignedCaptureFormat, eventId, found.EventHash.ToHex(), entries[(int)p.LeafIndex].Partner, p.ChainId, p.Height, p.LeafIndex, ReceiptHeader.From(block.Header),
            block.BlockHash.ToHex(), MerkleTree.CreateInclusionProof(leaves, p.LeafIndex).Select(h => h.ToHex()).ToList(),
            new ReceiptSignature(key.Algorithm.ToString(), Convert.ToBase64String(block.Signature)), key, evt,
            signed is null ? null : ReceiptCapture.From(signed));
    }
}
