namespace Btmc.Epcis;

/// <summary>
/// One reason a capture document was refused: the event's index in the document (null for document-level faults),
/// the JSON Pointer of the offending member in the submitted document, and what is wrong with it.
/// </summary>
public sealed record EpcisProblem(int? EventIndex, string Pointer, string Detail);
