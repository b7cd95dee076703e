using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Btmc.Compute.Jobs;

/// <summary>A hashing task's result: <c>{"kind":"hash-range","hashes":count,"found":[nonce, …]}</c>, found ascending.</summary>
public sealed record HashRangeOutput(ulong Hashes, IReadOnlyList<ulong> Found);

/// <summary>One file's digest: the name the task was given, SHA-256 (lowercase hex) and length.</summary>
public sealed record FileDigest(string File, string Sha256, long Bytes);

/// <summary>A digest task's result: <c>{"kind":"digest","digests":[{"file","sha256","bytes"}, …]}</c>, in argument order.</summary>
public sealed record DigestOutput(IReadOnlyList<FileDigest> Digests);

/// <summary>One rendered frame: its number, its file under the task's folder and the file's SHA-256 (lowercase hex).</summary>
public sealed record RenderedFrame(int Frame, string File, string Sha256);

/// <summary>A render task's result: <c>{"kind":"render","frames":[{"frame","file","sha256"}, …]}</c>, frames ascending.</summary>
public sealed record RenderOutput(IReadOnlyList<RenderedFrame> Frames);

/// <summary>
/// The one JSON object <c>btmc worker</c> prints on standard output (docs/compute-jobs.md, "Worker results"): written
/// here for the worker, read here for the job service, so both sides share one format.
/// </summary>
public static class WorkerOutput
{
    public const string HashRangeKind = "hash-range";
    public const string DigestKind = "digest";
    public const string RenderKind = "render";

    /// <summary>The file a rendered frame is written to, relative to the task's folder: Blender's
    /// <c>out/frame_####</c> pattern (at least four digits) with the PNG extension.</summary>
    public static string FrameFile(int frame) => string.Create(CultureInfo.InvariantCulture, $"out/frame_{frame:D4}.png");

    public static string ToJson(HashRangeOutput output) => Write(writer =>
    {
        writer.WriteString("kind", HashRangeKind);
        writer.WriteNumber("hashes", output.Hashes);
        writer.WriteStartArray("found");
        foreach (var nonce in output.Found)
        {
            writer.WriteNumberValue(nonce);
        }

        writer.WriteEndArray();
    });

    public static string ToJson(DigestOutput output) => Write(writer =>
    {
        writer.WriteString("kind", DigestKind);
        writer.WriteStartArray("digests");
        foreach (var digest in output.Digests)
        {
            writer.WriteStartObject();
            writer.WriteString("file", digest.File);
            writer.WriteString("sha256", digest.Sha256);
            writer.WriteNumber("bytes", digest.Bytes);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    });

    public static string ToJson(RenderOutput output) => Write(writer =>
    {
        writer.WriteString("kind", RenderKind);
        writer.WriteStartArray("frames");
        foreach (var frame in output.Frames)
        {
            writer.WriteStartObject();
            writer.WriteNumber("frame", frame.Frame);
            writer.WriteString("file", frame.File);
            writer.WriteString("sha256", frame.Sha256);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    });

    /// <exception cref="FormatException">Not a hash-range result.</exception>
    public static HashRangeOutput ParseHashRange(string json) => Read(json, HashRangeKind, root =>
    {
        var hashes = Member(root, "hashes", JsonValueKind.Number).TryGetUInt64(out var h) ? h : throw new FormatException("\"hashes\" is not an unsigned 64-bit integer.");
        var found = new List<ulong>();
        foreach (var nonce in Member(root, "found", JsonValueKind.Array).EnumerateArray())
        {
            found.Add(nonce.ValueKind == JsonValueKind.Number && nonce.TryGetUInt64(out var n) ? n : throw new FormatException("\"found\" holds something other than unsigned 64-bit integers."));
        }

        return new HashRangeOutput(hashes, found);
    });

    /// <exception cref="FormatException">Not a digest result.</exception>
    public static DigestOutput ParseDigest(string json) => Read(json, DigestKind, root =>
    {
        var digests = new List<FileDigest>();
        foreach (var item in Member(root, "digests", JsonValueKind.Array).EnumerateArray())
        {
            var bytes = Member(item, "bytes", JsonValueKind.Number).TryGetInt64(out var b) && b >= 0 ? b : throw new FormatException("\"bytes\" is not a length.");
            digests.Add(new FileDigest(Member(item, "file", JsonValueKind.String).GetString()!, Hash(Member(item, "sha256", JsonValueKind.String).GetString()!), bytes));
        }

        return new DigestOutput(digests);
    });

    /// <exception cref="FormatException">Not a render result.</exception>
    public static RenderOutput ParseRender(string json) => Read(json, RenderKind, root =>
    {
        var frames = new List<RenderedFrame>();
        foreach (var item in Member(root, "frames", JsonValueKind.Array).EnumerateArray())
        {
            var frame = Member(item, "frame", JsonValueKind.Number).TryGetInt32(out var f) ? f : throw new FormatException("\"frame\" is not a frame number.");
            frames.Add(new RenderedFrame(frame, Member(item, "file", JsonValueKind.String).GetString()!, Hash(Member(item, "sha256", JsonValueKind.String).GetString()!)));
        }

        return new RenderOutput(frames);
    });

    private static string Write(Action<Utf8JsonWriter> members)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            members(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static T Read<T>(string json, string kind, Func<JsonElement, T> read)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("The result is not a JSON object.");
            }

            var actual = Member(root, "kind", JsonValueKind.String).GetString();
            return actual == kind ? read(root) : throw new FormatException($"The result is of kind \"{actual}\", not \"{kind}\".");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"The result is not one JSON object: {ex.Message}", ex);
        }
    }

    private static JsonElement Member(JsonElement obj, string name, JsonValueKind kind) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == kind
            ? value
            : throw new FormatException($"The result has no \"{name}\" ({kind.ToString().ToLowerInvariant()}).");

    private static string Hash(string hex) =>
        hex.Length == 64 && hex.All(char.IsAsciiHexDigitLower)
            ? hex
            : throw new FormatException($"\"{hex}\" is not a SHA-256 in lowercase hex.");
}
