using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Btmc.Bench;

/// <summary>
/// A capture document of N object events as bytes, with fixed-width digit slots in every EPC that <see cref="Fill"/>
/// overwrites, so each document the clients send is distinct without building JSON on the client's hot path.
/// </summary>
internal sealed class DocumentTemplate
{
    private const string Slot = "CCCDDDDDDD";
    private readonly byte[] _bytes;
    private readonly int[] _slots;

    public DocumentTemplate(int events)
    {
        Events = events;
        var sb = new StringBuilder(events * 420);
        sb.Append("{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",")
          .Append("\"creationDate\":\"2026-11-22T10:00:00Z\",\"epcisBody\":{\"eventList\":[");
        for (var i = 0; i < events; i++)
        {
            sb.Append(i == 0 ? "" : ",")
              .Append(CultureInfo.InvariantCulture, $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-11-22T10:{i % 60:D2}:00.000Z\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"OBSERVE\",")
              .Append(CultureInfo.InvariantCulture, $"\"epcList\":[\"urn:epc:id:sgtin:0614141.812345.{Slot}{i}\"],\"bizStep\":\"shipping\",\"disposition\":\"in_transit\",")
              .Append("\"readPoint\":{\"id\":\"urn:epc:id:sgln:0614141.00777.0\"},\"bizLocation\":{\"id\":\"urn:epc:id:sgln:0614141.00888.0\"}}");
        }

        _bytes = Encoding.UTF8.GetBytes(sb.Append("]}}").ToString());
        var slots = new List<int>(events);
        var slot = Encoding.ASCII.GetBytes(Slot);
        for (var at = _bytes.AsSpan().IndexOf(slot); at >= 0;)
        {
            slots.Add(at);
            var next = _bytes.AsSpan(at + 1).IndexOf(slot);
            at = next < 0 ? -1 : at + 1 + next;
        }

        _slots = [.. slots];
    }

    public int Events { get; }

    public int Length => _bytes.Length;

    /// <summary>Writes the document for (client, doc) into <paramref name="destination"/>.</summary>
    public void Fill(byte[] destination, int client, int doc)
    {
        _bytes.CopyTo(destination, 0);
        Span<byte> digits = stackalloc byte[Slot.Length];
        Utf8Formatter.TryFormat(client % 1000, digits[..3], out _, new StandardFormat('D', 3));
        Utf8Formatter.TryFormat(doc % 10_000_000, digits[3..], out _, new StandardFormat('D', 7));
        foreach (var at in _slots)
        {
            digits.CopyTo(destination.AsSpan(at));
        }
    }
}
