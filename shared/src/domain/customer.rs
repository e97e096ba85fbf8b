//! The customer: the seed's `Customer` object, the create request and the eight updates.

use crate::domain::ids::{BankId, BranchId, CustomerId, CustomerNumber};
use crate::domain::patch::Patch;
use crate::domain::timestamp::{Timestamp, TimestampInput};
use crate::domain::validate::Invalid;
use crate::domain::validate::optional_object;
use crate::domain::validate::{self, Check, MAX_TEXT, MAX_URL};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceImage {
    pub url: String,
    pub date: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditRating {
    pub rating: String,
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub cur: String,
    pub num: String,
}

impl Amount {
    pub fn is_zero(&self) -> bool {
        validate::decimal_cmp(&self.num, "0").is_eq()
    }

    /// Whether `self` is no more credit than `other`: zero, or as much or less in its currency.
    /// What one member of staff may set alone; anything more is a credit limit order's approval
    /// (four eyes).
    pub fn within(&self, other: &Amount) -> bool {
        self.is_zero() || (self.cur == other.cur && validate::decimal_cmp(&self.num, &other.num).is_le())
    }
}

/// The seed's Customer, field names and quirks included. Absent values are `""`, `false`, objects
/// with `""` members, and `null` for timestamps: every field is always present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub bank_id: BankId,
    pub customer_number: CustomerNumber,
    pub legal_name: String,
    pub phone_number: String,
    pub email: String,
    pub face_image: FaceImage,
    pub date_of_birth: Option<Timestamp>,
    pub relationship_status: String,
    pub credit_rating: CreditRating,
    pub credit_limit: Amount,
    pub highest_educational_attained: String,
    pub employment_status: String,
    pub kyc_status: bool,
    pub last_ok_data: Option<Timestamp>,
    pub title: String,
    pub branch_id: String,
}

/// What a create stores beside the Customer object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    pub customer: Customer,
    /// False when the server chose the number: on a collision it may pick another.
    pub number_given: bool,
    pub dob_of_dependents: Vec<Timestamp>,
}

impl NewCustomer {
    /// Whether the customer starts without credit, as every new customer must, whatever creates it
    /// (the route, the bulk import): a limit is granted as any other, by an approved credit limit
    /// order (four eyes).
    pub fn starts_without_credit(&self) -> bool {
        self.customer.credit_limit.within(&Amount::default())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceImageBody {
    pub url: Option<String>,
    pub date: Option<TimestampInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditRatingBody {
    pub rating: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountBody {
    pub cur: Option<String>,
    pub num: Option<String>,
}

/// Most dependants' birth dates one customer may list.
pub const MAX_DEPENDANTS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomerBody {
    pub bank_id: Option<String>,
    pub customer_number: Option<String>,
    pub legal_name: Option<String>,
    pub mobile_phone_number: Option<String>,
    pub email: Option<String>,
    #[serde(default, deserialize_with = "optional_object")]
    pub face_image: Option<FaceImageBody>,
    pub date_of_birth: Option<TimestampInput>,
    pub relationship_status: Option<String>,
    pub dob_of_dependents: Option<Vec<TimestampInput>>,
    #[serde(default, deserialize_with = "optional_object")]
    pub credit_rating: Option<CreditRatingBody>,
    #[serde(default, deserialize_with = "optional_object")]
    pub credit_limit: Option<AmountBody>,
    pub highest_education_attained: Option<String>,
    pub employment_status: Option<String>,
    pub last_ok_date: Option<TimestampInput>,
    pub title: Option<String>,
    #[serde(rename = "branchId", alias = "branch_id")]
    pub branch_id: Option<String>,
}

fn text(v: &str) -> Result<String, String> {
    validate::text(v, MAX_TEXT)
}

fn url(v: &str) -> Result<String, String> {
    let v = validate::text(v, MAX_URL)?;
    if v.starts_with("https://") || v.starts_with("http://") {
        Ok(v)
    } else {
        Err("must be an http(s) URL".into())
    }
}

fn face_image(check: &mut Check, field: &str, body: FaceImageBody) -> FaceImage {
    FaceImage {
        url: check
            .optional(&format!("{field}.url"), body.url.as_deref(), url)
            .unwrap_or_default(),
        date: body.date.map(|d| d.0),
    }
}

/// A credit limit (`credit_limit.cur`, `credit_limit.num`), its faults added to `check`.
pub(crate) fn credit_limit(check: &mut Check, body: AmountBody) -> Amount {
    Amount {
        cur: check
            .required("credit_limit.cur", body.cur.as_deref(), validate::currency)
            .unwrap_or_default(),
        num: check
            .required("credit_limit.num", body.num.as_deref(), |v| validate::decimal(v, false))
            .unwrap_or_default(),
    }
}

impl CreateCustomerBody {
    /// Parses into a customer with a fresh id, or names every field at fault.
    pub fn validate(self) -> Result<NewCustomer, Invalid> {
        let mut check = Check::default();
        let bank_id = check.required("bank_id", self.bank_id.as_deref(), BankId::parse);
        let number = check.optional(
            "customer_number",
            self.customer_number.as_deref(),
            CustomerNumber::parse,
        );
        let legal_name = check.required("legal_name", self.legal_name.as_deref(), |v| {
            validate::required_text(v, MAX_TEXT)
        });
        let phone_number = check.optional(
            "mobile_phone_number",
            self.mobile_phone_number.as_deref(),
            validate::phone,
        );
        let email = check.optional("email", self.email.as_deref(), validate::email);
        let face_image = self.face_image.map(|f| face_image(&mut check, "face_image", f));
        let relationship_status = check.optional("relationship_status", self.relationship_status.as_deref(), text);
        let dependants = self.dob_of_dependents.unwrap_or_default();
        if dependants.len() > MAX_DEPENDANTS {
            check.fail("dob_of_dependents", format!("must list at most {MAX_DEPENDANTS} dates"));
        }
        let credit_rating = self.credit_rating.map(|r| CreditRating {
            rating: check
                .optional("credit_rating.rating", r.rating.as_deref(), text)
                .unwrap_or_default(),
            source: check
                .optional("credit_rating.source", r.source.as_deref(), text)
                .unwrap_or_default(),
        });
        let credit_limit = self.credit_limit.map(|a| credit_limit(&mut check, a));
        let education = check.optional(
            "highest_education_attained",
            self.highest_education_attained.as_deref(),
            text,
        );
        let employment = check.optional("employment_status", self.employment_status.as_deref(), text);
        let title = check.optional("title", self.title.as_deref(), text);
        let branch = check.optional("branchId", self.branch_id.as_deref(), BranchId::parse);
        check.finish()?;

        let (Some(bank_id), Some(legal_name)) = (bank_id, legal_name) else {
            return Err(Invalid::field("body", "validated fields missing"));
        };
        Ok(NewCustomer {
            number_given: number.is_some(),
            customer: Customer {
                id: CustomerId::new(),
                bank_id,
                customer_number: number.unwrap_or_else(CustomerNumber::generate),
                legal_name,
                phone_number: phone_number.unwrap_or_default(),
                email: email.unwrap_or_default(),
                face_image: face_image.unwrap_or_default(),
                date_of_birth: self.date_of_birth.map(|t| t.0),
                relationship_status: relationship_status.unwrap_or_default(),
                credit_rating: credit_rating.unwrap_or_default(),
                credit_limit: credit_limit.unwrap_or_default(),
                highest_educational_attained: education.unwrap_or_default(),
                employment_status: employment.unwrap_or_default(),
                kyc_status: false,
                last_ok_data: self.last_ok_date.map(|t| t.0),
                title: title.unwrap_or_default(),
                branch_id: branch.map(|b| b.to_string()).unwrap_or_default(),
            },
            dob_of_dependents: dependants.into_iter().map(|t| t.0).collect(),
        })
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CreateCustomerResponse {
    pub customer_id: CustomerId,
    pub bank_id: BankId,
}

/// The answer of every customer PUT.
#[derive(Debug, Serialize, Deserialize)]
pub struct CustomerEnvelope {
    pub customer: Customer,
}

/// A list of customers, with the next page when there is one.
#[derive(Debug, Serialize, Deserialize)]
pub struct CustomerList {
    pub customers: Vec<Customer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// A customer PUT: its body names the path's ids at most, and yields the changes to apply.
pub trait CustomerUpdate {
    fn ids(&self) -> (Option<&str>, Option<&str>);
    fn patch(self, check: &mut Check) -> Result<Patch, Invalid>;

    /// Checks the ids against the path and validates the rest.
    fn into_patch(self, bank: &BankId, customer: &CustomerId) -> Result<Patch, Invalid>
    where
        Self: Sized,
    {
        let mut check = Check::default();
        let (body_bank, body_customer) = self.ids();
        check.same_as_path("bank_id", body_bank, bank, BankId::parse);
        check.same_as_path("customer_id", body_customer, customer, CustomerId::parse);
        let patch = self.patch(&mut check);
        check.finish()?;
        patch
    }
}

macro_rules! update_body {
    ($name:ident { $($(#[$attr:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            pub bank_id: Option<String>,
            pub customer_id: Option<String>,
            $($(#[$attr])* pub $field: $ty,)*
        }
    };
}

update_body!(UpdateBranch { branch_id: Option<String> });
update_body!(UpdateCreditLimit { #[serde(default, deserialize_with = "optional_object")] credit_limit: Option<AmountBody> });
update_body!(UpdateCreditRating { #[serde(default, deserialize_with = "optional_object")] credit_rating: Option<CreditRatingBody> });
update_body!(UpdateEmail { email: Option<String> });
update_body!(UpdateIdentity { legal_name: Option<String>, date_of_birth: Option<TimestampInput>, title: Option<String> });
update_body!(UpdateMobileNumber { mobile_phone_number: Option<String> });
update_body!(UpdateNumber { customer_number: Option<String> });
update_body!(UpdateData {
    #[serde(default, deserialize_with = "optional_object")]
    face_image: Option<FaceImageBody>,
    relationship_status: Option<String>,
    dependants: Option<i32>,
    highest_education_attained: Option<String>,
    employment_status: Option<String>,
});

macro_rules! ids {
    () => {
        fn ids(&self) -> (Option<&str>, Option<&str>) {
            (self.bank_id.as_deref(), self.customer_id.as_deref())
        }
    };
}

/// Sets `path` to the parsed value when the check passed.
fn set_some<T: Serialize>(patch: &mut Patch, path: &[&'static str], value: Option<T>) -> Result<(), Invalid> {
    match value {
        Some(v) => patch.set(path, v),
        None => Ok(()),
    }
}

impl CustomerUpdate for UpdateBranch {
    ids!();
    fn patch(self, check: &mut Check) -> Result<Patch, Invalid> {
        let mut p = Patch::default();
        let branch = check.required("branch_id", self.branch_id.as_deref(), BranchId::parse);
        set_some(&mut p, &["branch_id"], branch)?;
        Ok(p)
    }
}

impl UpdateCreditLimit {
    /// The new limit, the body's ids checked against the path.
    pub fn into_limit(self, bank: &BankId, customer: &CustomerId) -> Result<Amount, Invalid> {
        let mut check = Check::default();
        check.same_as_path("bank_id", self.bank_id.as_deref(), bank, BankId::parse);
        check.same_as_path("customer_id", self.customer_id.as_deref(), customer, CustomerId::parse);
        let limit = self.credit_limit.map(|a| credit_limit(&mut check, a));
        if limit.is_none() {
            check.fail("credit_limit", "is required");
        }
        check.finish()?;
        limit.ok_or_else(|| Invalid::field("credit_limit", "is required"))
    }
}

impl CustomerUpdate for UpdateCreditRating {
    ids!();
    fn patch(self, check: &mut Check) -> Result<Patch, Invalid> {
        let mut p = Patch::default();
        match self.credit_rating {
            None => check.fail("credit_rating", "is required"),
            Some(r) => {
                let rating = check.required("credit_rating.rating", r.rating.as_deref(), |v| {
                    validate::required_text(v, MAX_TEXT)
                });
                let source = check.optional("credit_rating.source", r.source.as_deref(), text);
                set_some(&mut p, &["credit_rating", "rating"], rating)?;
                // A source left out stays as it was.
                if r.source.is_some() {
                    p.set(&["credit_rating", "source"], source.unwrap_or_default())?;
                }
            }
        }
        Ok(p)
    }
}

impl CustomerUpdate for UpdateEmail {
    ids!();
    fn patch(self, check: &mut Check) -> Result<Patch, Invalid> {
        let mut p = Patch::default();
        set_some(
            &mut p,
            &["email"],
            check.required("email", self.email.as_deref(), validate::email),
        )?;
        Ok(p)
    }
}

impl CustomerUpdate for UpdateIdentity {
    ids!();
    fn patch(self, check: &mut Check) -> Result<Patch, Invalid> {
        let mut p = Patch::default();
        let name = check.required("legal_name", self.legal_name.as_deref(), |v| {
            validate::required_text(v, MAX_TEXT)
        });
        set_some(&mut p, &["legal_name"], name)?;
        set_some(&mut p, &["date_of_birth"], self.date_of_birth.map(|t| t.0))?;
        if self.title.is_some() {
            let title = check.optional("title", self.title.as_deref(), text);
            p.set(&["title"], title.unwrap_or_default())?;
        }
        Ok(p)
    }
}

impl CustomerUpdate for UpdateMobileNumber {
    ids!();
    fn patch(self, check: &mut Check) -> Result<Patch, Invalid> {
        let mut p = Patch::default();
        let phone = check.required(
            "mobile_phone_number",
            self.mobile_phone_number.as_deref(),
            validate::phone,
        );
        set_some(&mut p, &["phone_number"], phone)?;
        Ok(p)
    }
}

impl UpdateNumber {
    /// The number change is not a plain patch: it moves the uniqueness record too.
    pub fn into_number(self, bank: &BankId, customer: &CustomerId) -> Result<CustomerNumber, Invalid> {
        let mut check = Check::default();
        check.same_as_path("bank_id", self.bank_id.as_deref(), bank, BankId::parse);
        check.same_as_path("customer_id", self.customer_id.as_deref(), customer, CustomerId::parse);
        let number = check.required(
            "customer_number",
            self.customer_number.as_deref(),
            CustomerNumber::parse,
        );
        check.finish()?;
        number.ok_or_else(|| Invalid::field("body", "validated number missing"))
    }
}

impl CustomerUpdate for UpdateData {
    ids!();
    fn patch(self, check: &mut Check) -> Result<Patch, Invalid> {
        let mut p = Patch::default();
        let given = self.face_image.is_some()
            || self.relationship_status.is_some()
            || self.dependants.is_some()
            || self.highest_education_attained.is_some()
            || self.employment_status.is_some();
        if !given {
            check.fail(
                "body",
                "give at least one of face_image, relationship_status, dependants, highest_education_attained, \
                 employment_status",
            );
        }
        // Member by member: what a nested object leaves out stays as it was.
        if let Some(f) = self.face_image {
            if f.url.is_some() {
                let v = check.optional("face_image.url", f.url.as_deref(), url);
                p.set(&["face_image", "url"], v.unwrap_or_default())?;
            }
            if let Some(date) = f.date {
                p.set(&["face_image", "date"], date.0)?;
            }
        }
        if self.relationship_status.is_some() {
            let v = check.optional("relationship_status", self.relationship_status.as_deref(), text);
            p.set(&["relationship_status"], v.unwrap_or_default())?;
        }
        match self.dependants {
            Some(n) if n < 0 => check.fail("dependants", "must be 0 or more"),
            Some(n) => p.set(&["dependants"], n)?,
            None => {}
        }
        if self.highest_education_attained.is_some() {
            let v = check.optional(
                "highest_education_attained",
                self.highest_education_attained.as_deref(),
                text,
            );
            p.set(&["highest_educational_attained"], v.unwrap_or_default())?;
        }
        if self.employment_status.is_some() {
            let v = check.optional("employment_status", self.employment_status.as_deref(), text);
            p.set(&["employment_status"], v.unwrap_or_default())?;
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::body::parse_json;
    use crate::http::error::ApiError;

    fn fields(err: impl Into<ApiError>) -> Vec<String> {
        match err.into() {
            ApiError::Invalid(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected 400, got {other:?}"),
        }
    }

    #[test]
    fn create_minimal_and_full() {
        let body: CreateCustomerBody = parse_json(br#"{"bank_id":"b1","legal_name":"Ada Lovelace"}"#).unwrap();
        let new = body.validate().unwrap();
        assert!(!new.number_given);
        assert_eq!(new.customer.email, "");
        assert_eq!(new.customer.date_of_birth, None);

        let body: CreateCustomerBody = parse_json(
            br#"{"bank_id":"b1","legal_name":"Ada","customer_number":"C-1","mobile_phone_number":"+44 20 7946-0958",
                "email":"ada@example.com","face_image":{"url":"https://img.example/a.png","date":"2020-01-01"},
                "date_of_birth":{"seconds":"-4828838400"},"dob_of_dependents":["2001-02-03"],
                "credit_rating":{"rating":"AA","source":"bureau"},"credit_limit":{"cur":"GBP","num":"1000.50"},
                "highest_education_attained":"PhD","employment_status":"employed","last_ok_date":"2024-01-01T00:00:00Z",
                "title":"Countess","branch_id":"london-1","relationship_status":"married"}"#,
        )
        .unwrap();
        let new = body.validate().unwrap();
        assert!(new.number_given);
        assert_eq!(new.customer.phone_number, "+442079460958");
        assert_eq!(new.customer.branch_id, "london-1");
        assert_eq!(new.dob_of_dependents.len(), 1);
        assert_eq!(
            new.customer.date_of_birth,
            Some(Timestamp {
                seconds: -4_828_838_400,
                nanos: 0
            })
        );
    }

    #[test]
    fn create_names_every_bad_field() {
        let body: CreateCustomerBody = parse_json(
            br#"{"bank_id":"b#1","email":"nope","mobile_phone_number":"12","credit_limit":{"cur":"XXX","num":"1e3"},"branchId":"a b"}"#,
        )
        .unwrap();
        let mut f = fields(body.validate().unwrap_err());
        f.sort();
        assert_eq!(
            f,
            [
                "bank_id",
                "branchId",
                "credit_limit.cur",
                "credit_limit.num",
                "email",
                "legal_name",
                "mobile_phone_number"
            ]
        );
    }

    #[test]
    fn nested_objects_must_be_objects() {
        let body = br#"{"bank_id":"b1","legal_name":"x","credit_limit":["EUR","1"]}"#;
        assert_eq!(
            fields(parse_json::<CreateCustomerBody>(body).unwrap_err()),
            ["credit_limit"]
        );
        let body = br#"{"face_image":[null,null]}"#;
        assert_eq!(fields(parse_json::<UpdateData>(body).unwrap_err()), ["face_image"]);
        let body = br#"{"credit_rating":null}"#;
        assert!(parse_json::<UpdateCreditRating>(body).unwrap().credit_rating.is_none());
        let body = br#"{"credit_rating":{"rating":"A","bogus":1}}"#;
        assert_eq!(
            fields(parse_json::<UpdateCreditRating>(body).unwrap_err()),
            ["credit_rating.bogus"]
        );
    }

    #[test]
    fn the_seeds_example_body_is_rejected_by_field() {
        let seed = br#"{"bank_id":"string","legal_name":"string","date_of_birth":{"seconds":"int64","nanos":"int32"}}"#;
        assert_eq!(
            fields(parse_json::<CreateCustomerBody>(seed).unwrap_err()),
            ["date_of_birth.seconds"]
        );
        let seed = br#"{"bank_id":"string","customer_id":"string","dependants":"int32"}"#;
        assert_eq!(fields(parse_json::<UpdateData>(seed).unwrap_err()), ["dependants"]);
    }

    #[test]
    fn updates_check_path_ids_and_required_fields() {
        let bank = BankId::parse("b1").unwrap();
        let id = CustomerId::new();
        let body: UpdateEmail = parse_json(br#"{"bank_id":"b2","email":"a@b.co"}"#).unwrap();
        assert_eq!(fields(body.into_patch(&bank, &id).unwrap_err()), ["bank_id"]);
        let body: UpdateEmail = parse_json(br#"{}"#).unwrap();
        assert_eq!(fields(body.into_patch(&bank, &id).unwrap_err()), ["email"]);
        let body: UpdateData = parse_json(br#"{}"#).unwrap();
        assert_eq!(fields(body.into_patch(&bank, &id).unwrap_err()), ["body"]);
        let body: UpdateData = parse_json(br#"{"dependants":-1}"#).unwrap();
        assert_eq!(fields(body.into_patch(&bank, &id).unwrap_err()), ["dependants"]);
        let body: UpdateCreditRating = parse_json(br#"{"credit_rating":{"rating":""}}"#).unwrap();
        assert_eq!(
            fields(body.into_patch(&bank, &id).unwrap_err()),
            ["credit_rating.rating"]
        );
        let body: UpdateCreditRating = parse_json(br#"{"credit_rating":{"rating":"A"}}"#).unwrap();
        let patch = body.into_patch(&bank, &id).unwrap();
        assert_eq!(patch.sets.len(), 1, "a source left out stays unchanged");
        let body: UpdateIdentity = parse_json(br#"{"legal_name":"X","date_of_birth":"1990-05-17"}"#).unwrap();
        assert_eq!(body.into_patch(&bank, &id).unwrap().sets.len(), 2);
    }
}
