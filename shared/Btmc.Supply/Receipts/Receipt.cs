using System.Text.Json;
using System.Text.Json.Serialization;
using Btmc.Ledger;

namespace Btmc.Supply.Receipts;

/// <summary>
/// A self-contained proof that an event is in the ledger (docs/ledger-format.md, "Receipt"): the event's identity
/// (its CBV 2.0 event hash ID), its hash, the partner that captured it, its position, the signed block header with the
/// producer's public key, and the Merkle inclusion proof from the event's leaf to the header's root. <see cref="Event"/>
/// is the event as stored, so its hash and its identity can be checked too. <see cref="Capture"/> is set when the
/// partner signed the capture (leaf format 0x03); such a receipt is <see cref="SignedCaptureFormat"/>.
/// A <see cref="CheckpointFormat"/> receipt also carries the block's producer-signed checkpoint of the chain-wide tree
/// (<see cref="Checkpoint"/>), the event's leaf in that tree (<see cref="TreeLeafIndex"/>, <see cref="TreeInclusionProof"/>)
/// and, per registered witness, the first checkpoint it cosigned that covers the event with a consistency proof to it
/// (<see cref="Cosignatures"/>), so that a verifier who trusts witnesses needs to trust no producer key.
/// A <see cref="RecordFormat"/> receipt proves a trade or finance record instead of an event (<see cref="Record"/>).
/// </summary>
public sealed record Receipt(
    string Format,
    string EventId,
    string EventHash,
    string Partner,
    string ChainId,
    long Height,
    long LeafIndex,
    ReceiptHeader BlockHeader,
    string BlockHash,
    IReadOnlyList<string> InclusionProof,
    ReceiptSignature Signature,
    EcPublicJwk ProducerKey,
    JsonElement? Event,
    ReceiptCapture? Capture = null,
    string? Checkpoint = null,
    long? TreeLeafIndex = null,
    IReadOnlyList<string>? TreeInclusionProof = null,
    IReadOnlyList<ReceiptCosignature>? Cosignatures = null,
    string? Record = null)
{
    /// <summary>The format of a receipt of an unsigned capture (leaf format 0x02).</summary>
    public const string CurrentFormat = "btmc-receipt/2";

    /// <summary>
    /// The format of a receipt of a signed capture (leaf format 0x03, with <see cref="Capture"/>). A verifier that knows
    /// only <see cref="CurrentFormat"/> says the format is unknown rather than that the inclusion proof fails.
    /// </summary>
    public const string SignedCaptureFormat = "btmc-receipt/3";

    /// <summary>
    /// The format of a receipt of a block with a checkpoint: <see cref="Checkpoint"/>, <see cref="TreeLeafIndex"/>,
    /// <see cref="TreeInclusionProof"/> and <see cref="Cosignatures"/> are present, and <see cref="Capture"/> is
    /// present exactly when the capture was signed (the leaf says which, so the inclusion proofs check it). Receipts of
    /// blocks sealed before checkpoints keep format 2 or 3.
    /// </summary>
    public const string CheckpointFormat = "btmc-receipt/4";

    /// <summary>
    /// The format of a receipt of a record of a chain of records (the trade chain, docs/trade.md): as
    /// <see cref="CheckpointFormat"/>, with <see cref="Record"/> (base64 of the record's stored JSON, whose SHA-256 is
    /// the leaf's hash and whose <c>id</c> is the leaf's id) instead of <see cref="Event"/>, and no capture signature.
    /// A new format, so that a verifier that knows only format 4 refuses it rather than pass it unchecked.
    /// </summary>
    public const string RecordFormat = "btmc-receipt/5";

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static Receipt FromJson(string json) =>
        JsonSerializer.Deserialize<Receipt>(json, JsonOptions) ?? throw new JsonException("The receipt is empty.");
}

/// <summary>The block header: <see cref="Encoded"/> (base64 of the canonical bytes) is what is hashed and signed; the
/// other members are the same values spelled out for people, and a verifier checks that they agree.</summary>
public sealed record ReceiptHeader(
    int Version,
    string ChainId,
    long Height,
    string PreviousHash,
    string MerkleRoot,
    long LeafCount,
    DateTimeOffset SlotTime,
    string ProducerId,
    string KeyId,
    string Encoded)
{
    public static ReceiptHeader From(BlockHeader header) => new(
        header.Version, header.ChainId, header.Height, header.PreviousHash.ToHex(), header.MerkleRoot.ToHex(), header.LeafCount,
        header.SlotTime, header.ProducerId, header.KeyId, Convert.ToBase64String(header.Encode()));
}

/// <summary>The producer's signature over the block hash: raw r||s, base64.</summary>
public sealed record ReceiptSignature(string Algorithm, string Value);

/// <summary>
/// The partner's signature over the capture document (docs/partners.md, "Signed captures"): the SHA-256 of the request
/// body (hex), the detached JWS over it, and the partner's registered public key it verified with at capture time.
/// The first two make the leaf's capture attestation; the key is the one the JWS header names (<c>kid</c>).
/// </summary>
public sealed record ReceiptCapture(string DocumentSha256, string Signature, EcPublicJwk SigningKey)
{
    public static ReceiptCapture From(SignedCapture signed) => new(signed.DocumentSha256.ToHex(), signed.Jws, signed.SigningKey);
}

/// <summary>
/// A witness's cosigned checkpoint covering the receipt's event: the witness's name and key ID (hex), the whole note
/// (checkpoint text, the producer's signature, the witness's cosignature), and the RFC 9162 consistency proof from the
/// receipt's checkpoint to it (empty when they are the same size).
/// </summary>
public sealed record ReceiptCosignature(string Witness, string KeyId, string Note, IReadOnlyList<string> ConsistencyProof);
