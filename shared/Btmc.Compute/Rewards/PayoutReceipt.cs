using System.Text.Json;
using Btmc.Chains;
using Btmc.Ledger;

namespace Btmc.Compute.Rewards;

/// <summary>
/// A contributor's proof of their payout (docs/compute.md, "Payout receipts"), <c>btmc-payout/1</c>: the payout record
/// exactly as stored (base64), the compute chain block's encoded header, its signature and producer key, and the
/// record's RFC 9162 inclusion proof in the block.
/// </summary>
public sealed record PayoutReceipt(
    string Format,
    string Record,
    string ChainId,
    long Height,
    long LeafIndex,
    string Header,
    string BlockHash,
    IReadOnlyList<string> InclusionProof,
    string Algorithm,
    string Signature,
    EcPublicJwk ProducerKey)
{
    public const string CurrentFormat = "btmc-payout/1";

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The payout record the receipt proves.</summary>
    public PayoutRecord Payout => RewardRecord.FromJson(Convert.FromBase64String(Record)) as PayoutRecord
        ?? throw new FormatException("The receipt's record is not a payout.");

    /// <summary>The receipt of <paramref name="contributor"/>'s payout in <paramref name="epoch"/>; null when the epoch is not closed or has no payout for them.</summary>
    public static async Task<PayoutReceipt?> BuildAsync(RewardLedger rewards, ChainReader reader, long epoch, string contributor, CancellationToken cancellationToken = default)
    {
        if (await rewards.FindEpochBlockAsync(epoch, cancellationToken).ConfigureAwait(false) is not { } block)
        {
            return null;
        }

        var entries = await reader.ReadEntriesAsync(RewardLedger.ChainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, withEvents: true, cancellationToken).ConfigureAwait(false);
        var id = $"compute:payout:{epoch}:{contributor}";
        var index = entries.ToList().FindIndex(e => e.EventId == id);
        if (index < 0)
        {
            return null;
        }

        var leaves = entries.Select(e => new LedgerEntry(e.EventId, e.EventHash, e.Partner).ComputeLeafHash()).ToArray();
        var key = await reader.GetProducerKeyAsync(block.Header.KeyId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Producer key {block.Header.KeyId} is not published.");
        return new PayoutReceipt(
            CurrentFormat, Convert.ToBase64String(entries[index].Event.Span), RewardLedger.ChainId, block.Header.Height, index,
            Convert.ToBase64String(block.Header.Encode()), block.BlockHash.ToHex(),
            MerkleTree.CreateInclusionProof(leaves, index).Select(h => h.ToHex()).ToList(),
            key.Algorithm.ToString(), Convert.ToBase64String(block.Signature), key);
    }

    /// <summary>Checks the receipt offline; null when it is valid, else the first check that fails.</summary>
    public string? Verify(EcPublicJwk? trustedKey = null)
    {
        try
        {
            if (Format != CurrentFormat)
            {
                return $"unknown receipt format '{Format}' (expected {CurrentFormat})";
            }

            var header = BlockHeader.Decode(Convert.FromBase64String(Header));
            if (header.ChainId != ChainId || header.Height != Height)
            {
                return "the header names another chain or height";
            }

            var blockHash = header.ComputeHash();
            if (blockHash.ToHex() != BlockHash)
            {
                return "the block hash is not SHA-256 of the header";
            }

            var thumbprint = ProducerKey.ComputeThumbprint();
            if (thumbprint != header.KeyId || (trustedKey is not null && trustedKey.ComputeThumbprint() != thumbprint))
            {
                return "the producer key is not the header's (or the pinned) key";
            }

            if (!BlockSignature.Verify(ProducerKey, blockHash, Convert.FromBase64String(Signature)))
            {
                return "the producer's signature does not verify over the block hash";
            }

            var bytes = Convert.FromBase64String(Record);
            var payout = Payout;
            var leaf = new LedgerEntry(payout.RecordId, Hash32.Compute(bytes), payout.Actor).ComputeLeafHash();
            return MerkleTree.TryVerifyInclusion(LeafIndex, header.LeafCount, leaf, InclusionProof.Select(Hash32.FromHex).ToArray(), header.MerkleRoot)
                ? null
                : "the payout record is not included in the block at its leaf index";
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or MerkleProofException or JsonException)
        {
            return ex.Message;
        }
    }
}
