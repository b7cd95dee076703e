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
        if (receipt.Format != Receipt.CurrentFormat && receipt.Format != Receipt.SignedCaptureFormat)
        {
            return $"unknown receipt format '{receipt.Format}' (expected {Receipt.CurrentFormat} or {Receipt.SignedCaptureFormat})";
        }

        if ((receipt.Format == Receipt.SignedCaptureFormat) != (receipt.Capture is not null))
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
