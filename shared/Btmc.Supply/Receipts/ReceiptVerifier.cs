using System.Text.Json;
using Btmc.Epcis;
using Btmc.Ledger;

namespace Btmc.Supply.Receipts;

/// <summary>The result of checking a receipt: null <see cref="Failure"/> means every check passed.</summary>
public sealed record ReceiptVerification(string? Failure, string? KeyThumbprint)
{
    public bool IsValid => Failure is null;
}

/// <summary>
/// Checks a receipt offline, with nothing but the receipt (and optionally a key the caller trusts): header encoding,
/// block hash, producer signature, key binding, Merkle inclusion, and the event's own hash and identity (its CBV 2.0 event hash ID, recomputed).
/// </summary>
public static class ReceiptVerifier
{
    public static ReceiptVerification Verify(Receipt receipt, EcPublicJwk? trustedKey = null)
    {
        try
        {
            return new ReceiptVerification(Check(receipt, trustedKey), receipt.ProducerKey.ComputeThumbprint());
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or MerkleProofException or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return new ReceiptVerification(ex.Message, null);
        }
    }

    private static string? Check(Receipt receipt, EcPublicJwk? trustedKey)
    {
        if (receipt.Format != Receipt.CurrentFormat)
        {
            return $"unknown receipt format '{receipt.Format}' (expected {Receipt.CurrentFormat})";
        }

        var header = BlockHeader.Decode(Convert.FromBase64String(receipt.BlockHeader.Encoded));
        if (ReceiptHeader.From(header) != receipt.BlockHeader)
        {
            return "the readable block header fields do not match the encoded header";
        }

        if (header.ChainId != receipt.ChainId || header.Height != receipt.Height)
        {
            return $"the receipt names {receipt.ChainId} block {receipt.Height} but the header is {header.ChainId} block {header.Height}";
        }

        var blockHash = header.ComputeHash();
        if (blockHash != Hash32.FromHex(receipt.BlockHash))
        {
            return $"block hash mismatch: receipt {receipt.BlockHash}, computed {blockHash.ToHex()}";
        }

        var thumbprint = receipt.ProducerKey.ComputeThumbprint();
        if (thumbprint != header.KeyId)
        {
            return $"the producer key (thumbprint {thumbprint}) is not the key the header names ({header.KeyId})";
        }

        if (trustedKey is not null && trustedKey.ComputeThumbprint() != thumbprint)
        {
            return $"the block is signed by key {thumbprint}, not by the trusted key {trustedKey.ComputeThumbprint()}";
        }

        if (receipt.Signature.Algorithm != receipt.ProducerKey.Algorithm.ToString())
        {
            return $"signature algorithm {receipt.Signature.Algorithm} does not match the key's curve {receipt.ProducerKey.Crv}";
        }

        if (!BlockSignature.Verify(receipt.ProducerKey, blockHash, Convert.FromBase64String(receipt.Signature.Value)))
        {
            return "the producer signature does not verify over the block hash";
        }

        var eventHash = Hash32.FromHex(receipt.EventHash);
        var leaf = new LedgerEntry(receipt.EventId, eventHash, receipt.Partner).ComputeLeafHash();
        var proof = receipt.InclusionProof.Select(Hash32.FromHex).ToArray();
        MerkleTree.VerifyInclusion(receipt.LeafIndex, header.LeafCount, leaf, proof, header.MerkleRoot);

        if (receipt.Event is JsonElement evt)
        {
            var computed = EventCanonicalForm.ComputeHash(evt);
            if (computed != eventHash)
            {
                return $"the event's canonical hash {computed.ToHex()} is not the sealed event hash {receipt.EventHash}";
            }

            var expectedId = StoredEvent.LedgerId(evt);
            if (expectedId != receipt.EventId)
            {
                return $"the event's identity is '{expectedId}', not '{receipt.EventId}'";
            }
        }

        return null;
    }
}
