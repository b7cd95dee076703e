namespace Btmc.Epcis.Identifiers;

/// <summary>Where an identifier stands in an EPCIS event, which decides the kinds of GS1 identifier it may be.</summary>
public enum EpcUriRole
{
    /// <summary>One object: <c>epcList</c>, <c>childEPCs</c>, <c>inputEPCList</c>, <c>outputEPCList</c>, <c>parentID</c>.</summary>
    Instance,

    /// <summary>A class of objects: the <c>epcClass</c> of a quantity element.</summary>
    Class,

    /// <summary>A place: <c>readPoint.id</c> and <c>bizLocation.id</c>.</summary>
    Location,

    /// <summary>Any other identifier: <c>source</c>, <c>destination</c>, <c>bizTransaction</c>.</summary>
    Other,
}
