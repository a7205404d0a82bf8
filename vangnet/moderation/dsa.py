# ruff: noqa: E501  (the code lists are copied verbatim; some labels are long)
"""The code lists of the EU DSA Transparency Database for statements of reasons (DSA Art. 17, 24(5)).

Copied from ``shared/design/dsa-sor-code-lists.md`` (the Commission's transparency-database
repository, ``app/Models/Statement.php``, commit 69e80a0; the schema since 1 July 2025). The
API takes the code, never the label. The values are stored as they are and sent as they are:
never rename one. Labels are the database's own English labels (they are what the database
shows), not translated.
"""

from django.db import models


class Method(models.TextChoices):
    """``METHODS``."""

    FORM = "METHOD_FORM", "FORM"
    API = "METHOD_API", "API"
    API_MULTI = "METHOD_API_MULTI", "API_MULTI"


class AccountType(models.TextChoices):
    """``ACCOUNT_TYPES``."""

    BUSINESS = "ACCOUNT_TYPE_BUSINESS", "Business"
    PRIVATE = "ACCOUNT_TYPE_PRIVATE", "Private"


class SourceType(models.TextChoices):
    """``SOURCE_TYPES``."""

    ARTICLE_16 = "SOURCE_ARTICLE_16", "Notice submitted in accordance with Article 16 DSA"
    TRUSTED_FLAGGER = "SOURCE_TRUSTED_FLAGGER", "Notice submitted by a trusted flagger"
    OTHER_NOTIFICATION = "SOURCE_TYPE_OTHER_NOTIFICATION", "Other type of notification"
    VOLUNTARY = "SOURCE_VOLUNTARY", "Own voluntary initiative"


class ContentType(models.TextChoices):
    """``CONTENT_TYPES``."""

    APP = "CONTENT_TYPE_APP", "App"
    AUDIO = "CONTENT_TYPE_AUDIO", "Audio"
    IMAGE = "CONTENT_TYPE_IMAGE", "Image"
    PRODUCT = "CONTENT_TYPE_PRODUCT", "Product"
    SYNTHETIC_MEDIA = "CONTENT_TYPE_SYNTHETIC_MEDIA", "Synthetic Media"
    TEXT = "CONTENT_TYPE_TEXT", "Text"
    VIDEO = "CONTENT_TYPE_VIDEO", "Video"
    OTHER = "CONTENT_TYPE_OTHER", "Other"


class AutomatedDecision(models.TextChoices):
    """``AUTOMATED_DECISIONS``."""

    FULLY = "AUTOMATED_DECISION_FULLY", "Fully automated"
    PARTIALLY = "AUTOMATED_DECISION_PARTIALLY", "Partially automated"
    NOT_AUTOMATED = "AUTOMATED_DECISION_NOT_AUTOMATED", "Not Automated"


class DecisionGround(models.TextChoices):
    """``DECISION_GROUNDS``."""

    ILLEGAL_CONTENT = "DECISION_GROUND_ILLEGAL_CONTENT", "Illegal Content"
    INCOMPATIBLE_CONTENT = "DECISION_GROUND_INCOMPATIBLE_CONTENT", "Content incompatible with terms and conditions"


class DecisionVisibility(models.TextChoices):
    """``DECISION_VISIBILITIES``."""

    CONTENT_REMOVED = "DECISION_VISIBILITY_CONTENT_REMOVED", "Removal of content"
    CONTENT_DISABLED = "DECISION_VISIBILITY_CONTENT_DISABLED", "Disabling access to content"
    CONTENT_DEMOTED = "DECISION_VISIBILITY_CONTENT_DEMOTED", "Demotion of content"
    CONTENT_AGE_RESTRICTED = "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED", "Age restricted content"
    CONTENT_INTERACTION_RESTRICTED = ("DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
                                      "Restricting interaction with content")
    CONTENT_LABELLED = "DECISION_VISIBILITY_CONTENT_LABELLED", "Labelled content"
    OTHER = "DECISION_VISIBILITY_OTHER", "Other restriction (please specify)"


class DecisionMonetary(models.TextChoices):
    """``DECISION_MONETARIES``."""

    SUSPENSION = "DECISION_MONETARY_SUSPENSION", "Suspension of monetary payments"
    TERMINATION = "DECISION_MONETARY_TERMINATION", "Termination of monetary payments"
    OTHER = "DECISION_MONETARY_OTHER", "Other restriction (please specify)"


class DecisionProvision(models.TextChoices):
    """``DECISION_PROVISIONS``."""

    PARTIAL_SUSPENSION = "DECISION_PROVISION_PARTIAL_SUSPENSION", "Partial suspension of the provision of the service"
    TOTAL_SUSPENSION = "DECISION_PROVISION_TOTAL_SUSPENSION", "Total suspension of the provision of the service"
    PARTIAL_TERMINATION = ("DECISION_PROVISION_PARTIAL_TERMINATION",
                           "Partial termination of the provision of the service")
    TOTAL_TERMINATION = "DECISION_PROVISION_TOTAL_TERMINATION", "Total termination of the provision of the service"


class DecisionAccount(models.TextChoices):
    """``DECISION_ACCOUNTS``."""

    SUSPENDED = "DECISION_ACCOUNT_SUSPENDED", "Suspension of the account"
    TERMINATED = "DECISION_ACCOUNT_TERMINATED", "Termination of the account"


class StatementCategory(models.TextChoices):
    """``STATEMENT_CATEGORIES``."""

    ANIMAL_WELFARE = "STATEMENT_CATEGORY_ANIMAL_WELFARE", "Animal welfare"
    CONSUMER_INFORMATION = "STATEMENT_CATEGORY_CONSUMER_INFORMATION", "Consumer information infringements"
    CYBER_VIOLENCE = "STATEMENT_CATEGORY_CYBER_VIOLENCE", "Cyber violence"
    CYBER_VIOLENCE_AGAINST_WOMEN = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN", "Cyber violence against women"
    DATA_PROTECTION_AND_PRIVACY_VIOLATIONS = ("STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
                                              "Data protection and privacy violations")
    ILLEGAL_OR_HARMFUL_SPEECH = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "Illegal or harmful speech"
    INTELLECTUAL_PROPERTY_INFRINGEMENTS = ("STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
                                           "Intellectual property infringements")
    NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS = ("STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
                                                        "Negative effects on civic discourse or elections")
    NOT_SPECIFIED_NOTICE = ("STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
                            "Type of alleged illegal content not specified by the notifier")
    OTHER_VIOLATION_TC = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "Other violation of provider’s terms and conditions"
    PROTECTION_OF_MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "Protection of minors"
    RISK_FOR_PUBLIC_SECURITY = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "Risk for public security"
    SCAMS_AND_FRAUD = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "Scams and/or fraud"
    SELF_HARM = "STATEMENT_CATEGORY_SELF_HARM", "Self-harm"
    UNSAFE_AND_PROHIBITED_PRODUCTS = ("STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
                                      "Unsafe, non-compliant or prohibited products")
    VIOLENCE = "STATEMENT_CATEGORY_VIOLENCE", "Violence"


class Keyword(models.TextChoices):
    """``KEYWORDS``."""

    ADULT_SEXUAL_MATERIAL = "KEYWORD_ADULT_SEXUAL_MATERIAL", "Adult sexual material"
    AGE_SPECIFIC_RESTRICTIONS = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS", "Age-specific restrictions"
    AGE_SPECIFIC_RESTRICTIONS_MINORS = ("KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
                                        "Age-specific restrictions concerning minors")
    ANIMAL_HARM = "KEYWORD_ANIMAL_HARM", "Animal harm"
    BIOMETRIC_DATA_BREACH = "KEYWORD_BIOMETRIC_DATA_BREACH", "Biometric data breach"
    BULLYING_AGAINST_GIRLS = "KEYWORD_BULLYING_AGAINST_GIRLS", "Cyber bullying and intimidation against girls"
    CHILD_SEXUAL_ABUSE_MATERIAL = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "Child sexual abuse material"
    CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE = ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
                                            "Child sexual abuse material containing deepfake or similar technology")
    CONTENT_PROMOTING_EATING_DISORDERS = ("KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
                                          "Content promoting eating disorders")
    COORDINATED_HARM = "KEYWORD_COORDINATED_HARM", "Coordinated harm"
    COPYRIGHT_INFRINGEMENT = "KEYWORD_COPYRIGHT_INFRINGEMENT", "Copyright infringements"
    CYBER_BULLYING_INTIMIDATION = "KEYWORD_CYBER_BULLYING_INTIMIDATION", "Cyber bullying and intimidation"
    CYBER_HARASSMENT = "KEYWORD_CYBER_HARASSMENT", "Cyber harassment"
    CYBER_HARASSMENT_AGAINST_WOMEN = "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN", "Cyber harassment against women"
    CYBER_INCITEMENT = "KEYWORD_CYBER_INCITEMENT", "Cyber incitement to hatred or violence"
    CYBER_STALKING = "KEYWORD_CYBER_STALKING", "Cyber stalking"
    CYBER_STALKING_AGAINST_WOMEN = "KEYWORD_CYBER_STALKING_AGAINST_WOMEN", "Cyber stalking against women"
    DATA_FALSIFICATION = "KEYWORD_DATA_FALSIFICATION", "Data falsification"
    DEFAMATION = "KEYWORD_DEFAMATION", "Defamation"
    DESIGN_INFRINGEMENT = "KEYWORD_DESIGN_INFRINGEMENT", "Design infringements"
    DISCRIMINATION = "KEYWORD_DISCRIMINATION", "Discrimination"
    FEMALE_GENDERED_DISINFORMATION = "KEYWORD_FEMALE_GENDERED_DISINFORMATION", "Gendered disinformation"
    GEOGRAPHIC_INDICATIONS_INFRINGEMENT = ("KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
                                           "Geographic indications infringements")
    GEOGRAPHICAL_REQUIREMENTS = "KEYWORD_GEOGRAPHICAL_REQUIREMENTS", "Geographical requirements"
    GOODS_SERVICES_NOT_PERMITTED = ("KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
                                    "Goods/services not permitted to be offered on the platform")
    GROOMING_SEXUAL_ENTICEMENT_MINORS = ("KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
                                         "Grooming/sexual enticement of minors")
    HATE_SPEECH = ("KEYWORD_HATE_SPEECH",
                   "Illegal incitement to violence and hatred based on protected characteristics (hate speech)")
    HIDDEN_ADVERTISEMENT = ("KEYWORD_HIDDEN_ADVERTISEMENT",
                            "Hidden advertisement or commercial communication, including by influencers")
    HUMAN_EXPLOITATION = "KEYWORD_HUMAN_EXPLOITATION", "Human exploitation"
    HUMAN_TRAFFICKING = "KEYWORD_HUMAN_TRAFFICKING", "Human trafficking"
    ILLEGAL_ORGANIZATIONS = "KEYWORD_ILLEGAL_ORGANIZATIONS", "Illegal organizations"
    IMPERSONATION_ACCOUNT_HIJACKING = "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING", "Impersonation or account hijacking"
    INAUTHENTIC_ACCOUNTS = "KEYWORD_INAUTHENTIC_ACCOUNTS", "Inauthentic accounts"
    INAUTHENTIC_LISTINGS = "KEYWORD_INAUTHENTIC_LISTINGS", "Inauthentic listings"
    INAUTHENTIC_USER_REVIEWS = "KEYWORD_INAUTHENTIC_USER_REVIEWS", "Inauthentic user reviews"
    INCITEMENT_AGAINST_WOMEN = ("KEYWORD_INCITEMENT_AGAINST_WOMEN",
                                "Illegal incitement to violence and hatred against women")
    INCITEMENT_VIOLENCE_HATRED = ("KEYWORD_INCITEMENT_VIOLENCE_HATRED",
                                  "General calls or incitement to violence and/or hatred")
    INSUFFICIENT_INFORMATION_ON_TRADERS = ("KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
                                           "Insufficient information on traders")
    LANGUAGE_REQUIREMENTS = "KEYWORD_LANGUAGE_REQUIREMENTS", "Language requirements"
    MISINFORMATION_DISINFORMATION = ("KEYWORD_MISINFORMATION_DISINFORMATION",
                                     "Misinformation, disinformation, foreign information manipulation and interference")
    MISLEADING_INFO_CONSUMER_RIGHTS = ("KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
                                       "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS")
    MISLEADING_INFO_GOODS_SERVICES = ("KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
                                      "Misleading information about the characteristics of the goods and services")
    MISSING_PROCESSING_GROUND = "KEYWORD_MISSING_PROCESSING_GROUND", "Missing processing ground for data"
    NON_CONSENSUAL_IMAGE_SHARING = ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
                                    "Non-consensual (intimate) material sharing, including (image-based) sexual abuse (excluding content depicting minors)")
    NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN = ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
                                                  "Non-consensual (intimate) material sharing against women, including (image-based) sexual abuse against women (excluding content depicting minors)")
    NON_CONSENSUAL_MATERIAL_DEEPFAKE = ("KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
                                        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE")
    NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN = ("KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
                                                      "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN")
    NONCOMPLIANCE_PRICING = "KEYWORD_NONCOMPLIANCE_PRICING", "Non-compliance with pricing regulations"
    NUDITY = "KEYWORD_NUDITY", "Nudity"
    PATENT_INFRINGEMENT = "KEYWORD_PATENT_INFRINGEMENT", "Patent infringements"
    PHISHING = "KEYWORD_PHISHING", "Phishing"
    PROHIBITED_PRODUCTS = "KEYWORD_PROHIBITED_PRODUCTS", "Prohibited or restricted products"
    PYRAMID_SCHEMES = "KEYWORD_PYRAMID_SCHEMES", "Pyramid schemes"
    RIGHT_TO_BE_FORGOTTEN = "KEYWORD_RIGHT_TO_BE_FORGOTTEN", "Right to be forgotten"
    RISK_ENVIRONMENTAL_DAMAGE = "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE", "Risk for environmental damage"
    RISK_PUBLIC_HEALTH = "KEYWORD_RISK_PUBLIC_HEALTH", "Risk for public health"
    SELF_MUTILATION = "KEYWORD_SELF_MUTILATION", "Self-mutilation"
    STALKING = "KEYWORD_STALKING", "Stalking"
    SUICIDE = "KEYWORD_SUICIDE", "Suicide"
    TERRORIST_CONTENT = "KEYWORD_TERRORIST_CONTENT", "Terrorist content"
    TRADE_SECRET_INFRINGEMENT = "KEYWORD_TRADE_SECRET_INFRINGEMENT", "Trade secret infringements"
    TRADEMARK_INFRINGEMENT = "KEYWORD_TRADEMARK_INFRINGEMENT", "Trademark infringements"
    TRAFFICKING_WOMEN_GIRLS = "KEYWORD_TRAFFICKING_WOMEN_GIRLS", "Trafficking in women and girls"
    UNLAWFUL_SALE_ANIMALS = "KEYWORD_UNLAWFUL_SALE_ANIMALS", "Unlawful sale of animals"
    UNSAFE_CHALLENGES = "KEYWORD_UNSAFE_CHALLENGES", "Unsafe challenges"
    UNSAFE_PRODUCTS = "KEYWORD_UNSAFE_PRODUCTS", "Unsafe or non-compliant products"
    VIOLATION_EU_LAW = "KEYWORD_VIOLATION_EU_LAW", "Violation of EU law relevant to civic discourse or elections"
    VIOLATION_NATIONAL_LAW = ("KEYWORD_VIOLATION_NATIONAL_LAW",
                              "Violation of national law relevant to civic discourse or elections")
    OTHER = "KEYWORD_OTHER", "Not captured by any other keyword"
