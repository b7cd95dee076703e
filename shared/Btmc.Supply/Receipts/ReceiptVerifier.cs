using System.Text.Json;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Ledger.Transparency;

namespace Btmc.Supply.Receipts;

/// <summary>
/// The result of checking a receipt: null <see cref="Failure"/> means every check passed. <see cref="Witnesses"/> are
/// the names of the given witnesses whose cosignature on a checkpoint consistent with the event's checkpoint verified
/// (distinct keys, in the receipt's order).
/// </summary>
public sealed record ReceiptVerification(string? Failure, string? KeyThumbprint, IReadOnlyList<string>? Witnesses = null)
{
    public bool IsValid => Failure is null;
}

/// <summary>
/// Checks a receipt offline, with nothing but the receipt (and optionally a key the caller trusts): header encoding,
/// block hash, producer signature, key binding, Merkle inclusion, and the event's own hash and identity (its CBV 2.0 event hash ID, recomputed).
/// </summary>
public static class ReceiptVerifier
{
    /// <param name="receipt">The receipt.</param>
    /// <param name="trustedKey">The producer key the block must be signed with; any key the receipt names when null.</param>
    /// <param name="witnesses">Witnesses the caller trusts: those whose cosignature the receipt carries, on a checkpoint
    /// consistent with the event's, are listed in <see cref="ReceiptVerification.Witnesses"/>.</param>
    public static ReceiptVerification Verify(Receipt receipt, EcPublicJwk? trustedKey = null, IReadOnlyList<Cosigner>? witnesses = null)
    {
        try
        {
            var vouched = new List<string>();
            return new ReceiptVerification(Check(receipt, trustedKey, witnesses ?? [], vouched), receipt.ProducerKey.ComputeThumbprint(), vouched);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or MerkleProofException or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return new ReceiptVerification(ex.Message, null, []);
        }
    }

    private static string? Check(Receipt receipt, EcPublicJwk? trustedKey, IReadOnlyList<Cosigner> witnesses, List<string> vouched)
    {
        if (receipt.Format != Receipt.CurrentFormat && receipt.Format != Receipt.SignedCaptureFormat && receipt.Format != Receipt.CheckpointFormat && receipt.Format != Receipt.RecordFormat)
        {
            return $"unknown receipt format '{receipt.Format}' (expected {Receipt.CurrentFormat}, {Receipt.SignedCaptureFormat}, {Receipt.CheckpointFormat} or {Receipt.RecordFormat})";
        }

        var ofRecord = receipt.Format == Receipt.RecordFormat;
        if (ofRecord != (receipt.Record is not null) || (ofRecord && (receipt.Event is not null || receipt.Capture is not null)))
        {
            return ofRecord
                ? $"a {Receipt.RecordFormat} receipt carries the record (and no event or capture signature), and this one does not"
                : $"a {receipt.Format} receipt proves an event, and this one carries a record";
        }

        var withCheckpoint = receipt.Format is Receipt.CheckpointFormat or Receipt.RecordFormat;
        if (withCheckpoint != (receipt.Checkpoint is not null && receipt.TreeLeafIndex is not null && receipt.TreeInclusionProof is not null && receipt.Cosignatures is not null))
        {
            return withCheckpoint
                ? $"a {Receipt.CheckpointFormat} receipt carries checkpoint, treeLeafIndex, treeInclusionProof and cosignatures, and this one lacks some"
                : $"a {receipt.Format} receipt carries no checkpoint, tree proof or cosignatures, and this one has some";
        }

        if (!withCheckpoint && (receipt.Format == Receipt.SignedCaptureFormat) != (receipt.Capture is not null))
        {
            return receipt.Capture is null
                ? $"a {Receipt.SignedCaptureFormat} receipt carries the capture signature, and this one has none"
                : $"a {Receipt.CurrentFormat} receipt carries no capture signature, and this one has one";
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
        Hash32? attestation = null;
        if (receipt.Capture is { } capture)
        {
            if (CheckCapture(capture) is { } failure)
            {
                return failure;
            }

            attestation = SignedOf(capture).ComputeAttestation();
        }

        // For a signed capture the leaf (format 0x03) ends with the attestation of the document hash and the JWS, so
        // the inclusion proof below fails if either was altered; the key is bound by the JWS header's kid (checked above).
        var leaf = new LedgerEntry(receipt.EventId, eventHash, receipt.Partner, attestation).ComputeLeafHash();
        var proof = receipt.InclusionProof.Select(Hash32.FromHex).ToArray();
        MerkleTree.VerifyInclusion(receipt.LeafIndex, header.LeafCount, leaf, proof, header.MerkleRoot);
        if (withCheckpoint && CheckCheckpoint(receipt, header, blockHash, leaf, witnesses, vouched) is { } checkpointFailure)
        {
            return checkpointFailure;
        }

        if (receipt.Record is { } record)
        {
            return CheckRecord(receipt, Convert.FromBase64String(record), eventHash);
        }

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

    /// <summary>The record is the leaf's: its SHA-256 is the leaf's hash and its own <c>id</c> member the leaf's id.</summary>
    private static string? CheckRecord(Receipt receipt, byte[] record, Hash32 leafHash)
    {
        var computed = Hash32.Compute(record);
        if (computed != leafHash)
        {
            return $"the record's SHA-256 {computed.ToHex()} is not the sealed hash {receipt.EventHash}";
        }

        using var json = JsonDocument.Parse(record);
        return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() == receipt.EventId
            ? null
            : $"the record's id is not '{receipt.EventId}'";
    }

    /// <summary>
    /// The checkpoint part of a <see cref="Receipt.CheckpointFormat"/> receipt: the checkpoint names this block and
    /// this chain, the block's producer key signed it, the leaf is at <see cref="Receipt.TreeLeafIndex"/> of its tree
    /// (the block's leaves are the tree's last), and every cosigned checkpoint is of the same origin, no smaller, and
    /// consistent with it. The given witnesses whose cosignature verifies are added to <paramref name="vouched"/>.
    /// </summary>
    private static string? CheckCheckpoint(Receipt receipt, BlockHeader header, Hash32 blockHash, Hash32 leaf, IReadOnlyList<Cosigner> witnesses, List<string> vouched)
    {
        var note = SignedNote.Parse(receipt.Checkpoint!);
        var checkpoint = Checkpoint.Parse(note.Text);
        if (checkpoint.Block != (header.Height, blockHash))
        {
            return $"the checkpoint does not name block {header.Height} ({blockHash.ToHex()}) of the receipt";
        }

        if (!checkpoint.Origin.EndsWith("/" + receipt.ChainId, StringComparison.Ordinal))
        {
            return $"the checkpoint's origin {checkpoint.Origin} is not chain {receipt.ChainId}'s";
        }

        if (!EcdsaNoteKey.Verify(note, checkpoint.Origin, receipt.ProducerKey))
        {
            return "the checkpoint's signature does not verify with the producer key that signed the block";
        }

        var index = receipt.TreeLeafIndex!.Value;
        if (index != checkpoint.Size - header.LeafCount + receipt.LeafIndex)
        {
            return $"tree leaf {index} is not leaf {receipt.LeafIndex} of the block's {header.LeafCount}, which are the last of the checkpoint's {checkpoint.Size}";
        }

        MerkleTree.VerifyInclusion(index, checkpoint.Size, leaf, receipt.TreeInclusionProof!.Select(Hash32.FromHex).ToArray(), checkpoint.RootHash);
        var counted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var cosignature in receipt.Cosignatures!)
        {
            if (cosignature?.Note is null || cosignature.ConsistencyProof is null)
            {
                return "a cosignature lacks its note or consistency proof";
            }

            var cosignedNote = SignedNote.Parse(cosignature.Note);
            var cosigned = Checkpoint.Parse(cosignedNote.Text);
            if (cosigned.Origin != checkpoint.Origin || cosigned.Size < checkpoint.Size)
            {
                return $"witness {cosignature.Witness}'s checkpoint ({cosigned.Origin}, size {cosigned.Size}) does not cover the event's ({checkpoint.Origin}, size {checkpoint.Size})";
            }

            var consistency = cosignature.ConsistencyProof.Select(Hash32.FromHex).ToArray();
            if (!MerkleTree.TryVerifyConsistency(checkpoint.Size, cosigned.Size, consistency, checkpoint.RootHash, cosigned.RootHash))
            {
                return $"witness {cosignature.Witness}'s checkpoint of size {cosigned.Size} is not consistent with the event's checkpoint of size {checkpoint.Size}";
            }

            foreach (var witness in witnesses)
            {
                var identity = Convert.ToHexString([.. witness.TypeBytes, .. witness.PublicKey]);
                if (!counted.Contains(identity) && witness.Verify(cosignedNote) is not null)
                {
                    counted.Add(identity);
                    vouched.Add(witness.Name);
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Checks a verified receipt of a signed capture against the document the partner sent: the document's SHA-256 is
    /// the receipt's documentSha256, the JWS verifies over the document with the receipt's signing key, and the document
    /// holds the receipt's event (its CBV 2.0 event hash ID, computed as capture computes it; an XML document is
    /// converted to JSON-LD first, as capture does). Null when all hold, else the first that does not.
    /// Verify the receipt itself first (<see cref="Verify"/>): this says nothing about the ledger.
    /// </summary>
    public static string? VerifyDocument(Receipt receipt, ReadOnlyMemory<byte> document)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        if (receipt.Capture is not { } capture)
        {
            return "the receipt's capture was not signed: it carries no documentSha256 or signature to check a document against";
        }

        try
        {
            if (CheckCapture(capture) is { } failure)
            {
                return failure;
            }

            var documentHash = Hash32.Compute(document.Span);
            if (documentHash != Hash32.FromHex(capture.DocumentSha256))
            {
                return $"the document's SHA-256 is {documentHash.ToHex()}, the receipt's documentSha256 is {capture.DocumentSha256}: not the document that was signed";
            }

            if (!DetachedJws.Verify(capture.Signature, document.Span, capture.SigningKey, out var reason))
            {
                return $"the capture signature does not verify over the document: {reason}";
            }

            var json = document;
            if (LooksLikeXml(document.Span))
            {
                var conversion = Btmc.Epcis.Xml.EpcisXmlConverter.Convert(document.Span);
                if (!conversion.Succeeded)
                {
                    return $"the document is not a readable EPCIS XML document: {conversion.Problems[0].Detail}";
                }

                json = conversion.JsonLd;
            }

            // The record time does not enter the event hash ID, so any instant gives the same ids.
            var read = EpcisDocumentReader.Read(json, DateTimeOffset.UnixEpoch);
            if (!read.IsValid)
            {
                return $"the document is not a valid EPCIS capture document: {read.Problems[0].Pointer} {read.Problems[0].Detail}";
            }

            return read.Events.Any(e => e.EventId == receipt.EventId)
                ? null
                : $"the document's {read.Events.Count} events do not include {receipt.EventId}";
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return ex.Message;
        }
    }

    private static string? CheckCapture(ReceiptCapture capture)
    {
        if (capture.SigningKey is null || capture.Signature is null || capture.DocumentSha256 is null)
        {
            return "the capture signature lacks documentSha256, signature or signingKey";
        }

        if (capture.SigningKey.Crv != EcPublicJwk.CurveP256)
        {
            return $"the capture signing key is on {capture.SigningKey.Crv}; a capture is signed with a P-256 key (ES256)";
        }

        if (!DetachedJws.TryParse(capture.Signature, out var jws, out var failure))
        {
            return $"the capture signature is not a detached ES256 JWS: {failure}";
        }

        var thumbprint = capture.SigningKey.ComputeThumbprint();
        return jws.KeyId == thumbprint
            ? null
            : $"the capture signature names key {jws.KeyId}, not the receipt's signing key {thumbprint}";
    }

    private static SignedCapture SignedOf(ReceiptCapture capture) => new(Hash32.FromHex(capture.DocumentSha256), capture.Signature, capture.SigningKey);

    private static bool LooksLikeXml(ReadOnlySpan<byte> document)
    {
        var text = document.StartsWith("\uFEFF"u8) ? document[3..] : document;
        var start = text.IndexOfAnyExcept(" \t\r\n"u8);
        return start >= 0 && text[start] == (byte)'<';
    }
}
